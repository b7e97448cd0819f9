namespace Burrow.Core.Runtime;

/// <summary>
/// Where the installed pieces are, relative to the running binary, so that the tree under
/// <c>out/</c> (or any prefix) is relocatable: <c>PREFIX/bin/burrow</c>,
/// <c>PREFIX/libexec/burrow/burrow-starter</c>, <c>PREFIX/etc/burrow/</c> (<c>/etc/burrow</c> when the prefix is <c>/usr</c>).
/// </summary>
public sealed record RuntimePaths(string Prefix, string Self, string Starter, string ConfigDir)
{
    public static RuntimePaths FromProcess()
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell where the burrow binary is");
        self = Path.GetFullPath(self);
        string prefix = Path.GetDirectoryName(Path.GetDirectoryName(self)!)!;
        return new RuntimePaths(
            prefix,
            self,
            Path.Combine(prefix, "libexec", "burrow", "burrow-starter"),
            Config.Installation.ConfigDirectoryFor(prefix));
    }
}
