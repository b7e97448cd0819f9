namespace Burrow.Core.Build;

/// <summary>The bootstrap agents (<c>Bootstrap:</c> values) Burrow builds from.</summary>
public static class Bootstrap
{
    public const string Docker = "docker";
    public const string DockerArchive = "docker-archive";
    public const string DockerDaemon = "docker-daemon";
    public const string Oci = "oci";
    public const string OciArchive = "oci-archive";
    public const string LocalImage = "localimage";
    public const string Scratch = "scratch";
    public const string Busybox = "busybox";
    public const string Debootstrap = "debootstrap";

    public static readonly IReadOnlyList<string> Agents = [Docker, DockerArchive, DockerDaemon, Oci, OciArchive, LocalImage, Scratch, Busybox, Debootstrap];

    public static bool IsKnown(string agent) => Agents.Contains(agent.ToLowerInvariant());
}
