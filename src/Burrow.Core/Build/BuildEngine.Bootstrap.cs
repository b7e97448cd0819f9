using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Burrow.Core.Build.Tasks;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Images;
using Burrow.Core.Oci;
using Burrow.Core.Runtime;
using Burrow.Core.Sif;
using Burrow.Linux;
using Agents = Burrow.Core.Build.Bootstrap;

namespace Burrow.Core.Build;

/// <summary>The bootstrap agents: where a stage's root file system starts from.</summary>
public sealed partial class BuildEngine
{
    /// <summary>Device nodes debootstrap makes (its setup_devices_simple), which no unprivileged process can: the image gets them from the pack.</summary>
    private static readonly TreeEntry[] s_debootstrapDevices =
    [
        new("/dev/null", 'c', 0x1b6, 0, 0, 1, 3), new("/dev/zero", 'c', 0x1b6, 0, 0, 1, 5), new("/dev/full", 'c', 0x1b6, 0, 0, 1, 7),
        new("/dev/random", 'c', 0x1b6, 0, 0, 1, 8), new("/dev/urandom", 'c', 0x1b6, 0, 0, 1, 9), new("/dev/tty", 'c', 0x1b6, 0, 0, 5, 0),
        new("/dev/console", 'c', 0x180, 0, 0, 5, 1),
    ];

    private void Bootstrap(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        string agent = (d.Bootstrap ?? "").ToLowerInvariant();
        switch (agent)
        {
            case "":
                throw new DefinitionException(_definition.Path, d.FirstLine, "header", "the definition has no Bootstrap: header",
                    "start it with, for example, \"Bootstrap: docker\" and \"From: debian:12\"");
            case Agents.Scratch:
                Log.Info("Bootstrap: scratch (an empty root file system)");
                return;
            case Agents.Docker or Agents.DockerArchive or Agents.Oci or Agents.OciArchive:
                FromOci(stage, agent);
                return;
            case Agents.DockerDaemon:
                FromDockerDaemon(stage);
                return;
            case Agents.LocalImage:
                FromLocalImage(stage, Required(d, "from", "the path of a SIF file or a sandbox directory"));
                return;
            case Agents.Busybox:
                FromBusybox(stage);
                return;
            case Agents.Debootstrap:
                FromDebootstrap(stage);
                return;
            default:
                throw new DefinitionException(_definition.Path, d.LineOf("bootstrap"), "header", $"unknown bootstrap agent \"{d.Bootstrap}\"",
                    "use one of: " + string.Join(", ", Agents.Agents));
        }
    }

    private string Required(DefinitionStage d, string key, string what) =>
        d.HeaderValue(key) is { Length: > 0 } v ? v
        : throw new DefinitionException(_definition.Path, d.LineOf("bootstrap"), "header",
            $"Bootstrap: {d.Bootstrap} needs a {char.ToUpperInvariant(key[0]) + key[1..]}: header ({what})");

    private void FromOci(StageState stage, string agent)
    {
        DefinitionStage d = stage.Definition;
        string from = Required(d, "from", agent == Agents.Docker ? "an image reference such as debian:12" : "the path of the image");
        if (agent == Agents.Docker && d.HeaderValue("registry") is { Length: > 0 } registry && !from.Contains('/'))
        {
            from = registry.TrimEnd('/') + "/" + (d.HeaderValue("namespace") is { Length: > 0 } ns ? ns.Trim('/') + "/" : "") + from;
        }
        string reference = agent switch
        {
            Agents.Docker => from.StartsWith("docker://", StringComparison.Ordinal) ? from : "docker://" + from,
            _ => agent + ":" + from,
        };
        ImageSource source = ImageSource.TryParse(reference)
            ?? throw new DefinitionException(_definition.Path, d.LineOf("from"), "header", $"\"{from}\" is not a {agent} image reference");
        Log.Info($"Fetching the bootstrap image {reference}");
        PulledImage pulled = new ImagePuller(new ImageCache(ImageCache.DefaultRoot()))
            .PullAsync(source, _options.Pull, Interruption.Token).GetAwaiter().GetResult();
        try
        {
            stage.BaseName = reference;
            stage.BaseDigest = pulled.ManifestDigest.ToString();
            UnpackSif(stage, pulled.SifPath);
        }
        finally
        {
            if (pulled.TempDirectory is not null)
            {
                TemporaryDirectories.Remove(pulled.TempDirectory);
            }
        }
    }

    /// <summary>
    /// Docker's daemon (Apptainer's docker-daemon agent): the image saved through the Engine API on its Unix socket
    /// (<c>GET /images/NAME/get</c>, what <c>docker save</c> uses), then read as a docker-archive.
    /// </summary>
    private void FromDockerDaemon(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        string from = Required(d, "from", "an image the daemon has, such as debian:12");
        string socket = Environment.GetEnvironmentVariable("DOCKER_HOST") is { } host && host.StartsWith("unix://", StringComparison.Ordinal)
            ? host["unix://".Length..] : "/var/run/docker.sock";
        if (FileStatus.OfPath(socket) is not { Kind: FileKind.Socket })
        {
            throw new DefinitionException(_definition.Path, d.LineOf("bootstrap"), "header",
                $"Bootstrap: docker-daemon needs a running Docker daemon, and there is none here (no socket at {socket})",
                "save the image on a machine with Docker (docker save -o image.tar NAME) and use Bootstrap: docker-archive with From: image.tar");
        }
        string archive = Path.Combine(_workspace, "docker-daemon.tar");
        Log.Info($"Saving {from} from the Docker daemon at {socket}");
        using (var http = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct).ConfigureAwait(false);
                return new NetworkStream(s, ownsSocket: true);
            },
        }))
        {
            using HttpResponseMessage response = http.GetAsync("http://docker/images/" + Uri.EscapeDataString(from) + "/get",
                HttpCompletionOption.ResponseHeadersRead, Interruption.Token).GetAwaiter().GetResult();
            if (!response.IsSuccessStatusCode)
            {
                throw new BurrowException($"the Docker daemon could not save {from}: HTTP {(int)response.StatusCode}", "check the name with docker images");
            }
            using Stream body = response.Content.ReadAsStream(Interruption.Token);
            using FileStream file = File.Create(archive);
            body.CopyTo(file);
        }
        FromArchive(stage, Agents.DockerArchive, archive);
    }

    private void FromArchive(StageState stage, string agent, string path)
    {
        ImageSource source = ImageSource.TryParse(agent + ":" + path) ?? throw new BurrowException($"cannot read {path} as {agent}");
        PulledImage pulled = new ImagePuller(new ImageCache(ImageCache.DefaultRoot()))
            .PullAsync(source, _options.Pull, Interruption.Token).GetAwaiter().GetResult();
        try
        {
            UnpackSif(stage, pulled.SifPath);
        }
        finally
        {
            if (pulled.TempDirectory is not null)
            {
                TemporaryDirectories.Remove(pulled.TempDirectory);
            }
        }
    }

    private void FromLocalImage(StageState stage, string from)
    {
        string path = Path.GetFullPath(from, _options.WorkingDirectory);
        FileStatus st = FileStatus.OfPath(path) ?? throw new DefinitionException(_definition.Path, stage.Definition.LineOf("from"), "header",
            $"Bootstrap: localimage: {from} does not exist");
        if (st.Kind == FileKind.Directory)
        {
            Log.Info($"Copying the sandbox {from}");
            string report = Path.Combine(_workspace, "copy-report.json");
            _ns.Run(new BuildTask { Kind = BuildTaskKind.CopyTree, Source = path, Root = stage.Root, Output = report, RootOnly = !_ns.HasRange },
                $"copying the sandbox {from}");
            TakeReport(stage, report);
            return;
        }
        if (st.Kind != FileKind.Regular || !SifSandbox.LooksLikeSif(path))
        {
            throw new DefinitionException(_definition.Path, stage.Definition.LineOf("from"), "header",
                $"Bootstrap: localimage: {from} is neither a SIF file nor a sandbox directory");
        }
        UnpackSif(stage, path);
    }

    /// <summary>Unpacks a SIF's primary partition into the stage's root, in the build's namespace (owners kept).</summary>
    private void UnpackSif(StageState stage, string sifPath)
    {
        long offset, length;
        using (SifImage sif = SifImage.Open(sifPath))
        {
            SifDescriptor partition = sif.PrimarySystemPartition
                ?? throw new BurrowException($"{sifPath}: the SIF has no primary system partition, so there is nothing to build on");
            if (partition.FsType != SifFsType.Squash)
            {
                throw new BurrowException($"{sifPath}: the primary partition is {partition.FsType}, not squashfs");
            }
            offset = partition.Offset;
            length = partition.Size;
            if (partition.Arch is { Length: > 0 } arch && SifArch.CodeOf(arch) is not null && arch != "unknown")
            {
                stage.Arch = arch;
            }
        }
        Log.Info("Unpacking the bootstrap image");
        string report = Path.Combine(_workspace, "unpack-report.json");
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Unpack, Source = sifPath, Offset = offset, Length = length, Root = stage.Root, Output = report },
            "unpacking the bootstrap image");
        TakeReport(stage, report);
    }

    private void TakeReport(StageState stage, string report)
    {
        if (!File.Exists(report))
        {
            return;
        }
        UnpackReport r = JsonSerializer.Deserialize(File.ReadAllBytes(report), BuildTaskJsonContext.Default.UnpackReport) ?? new UnpackReport();
        File.Delete(report);
        stage.Devices.AddRange(r.Devices);
        if (r.OwnersLost > 0)
        {
            Log.Warning($"{r.OwnersLost} file(s) of the bootstrap image belong to ids outside the build's mapping (root and your subordinate range); "
                + "they are root's in this image");
        }
        if (r.Unreadable.Count > 0)
        {
            Log.Warning($"you may not read {r.Unreadable.Count} entr{(r.Unreadable.Count == 1 ? "y" : "ies")} of the bootstrap sandbox "
                + $"({string.Join(", ", r.Unreadable.Take(3))}{(r.Unreadable.Count > 3 ? ", …" : "")}); they are empty in this image");
        }
    }

    /// <summary>Apptainer's busybox agent: the binary from MirrorURL as /bin/busybox, its applets linked in /bin, minimal /etc.</summary>
    private void FromBusybox(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        string mirror = Required(d, "mirrorurl", "the URL of a static busybox binary");
        Log.Info($"Fetching busybox from {mirror}");
        byte[] binary = Download(mirror, d);
        if (binary.Length < 4 || binary[0] != 0x7f || binary[1] != (byte)'E' || binary[2] != (byte)'L' || binary[3] != (byte)'F')
        {
            throw new BurrowException($"{mirror} is not a busybox binary (not an ELF file)", "MirrorURL must name the busybox executable itself");
        }
        // The root is still empty and private: the engine writes these first files itself.
        FileSystem.MakeDirectory(Path.Combine(stage.Root, "bin"), 0x1ed);
        FileSystem.MakeDirectory(Path.Combine(stage.Root, "etc"), 0x1ed);
        File.WriteAllBytes(Path.Combine(stage.Root, "bin", "busybox"), binary);
        FileSystem.SetMode(Path.Combine(stage.Root, "bin", "busybox"), 0x1ed);
        File.WriteAllText(Path.Combine(stage.Root, "etc", "passwd"), "root:!:0:0:root:/root:/bin/sh\n");
        File.WriteAllText(Path.Combine(stage.Root, "etc", "group"), "root:x:0:\n");
        File.WriteAllText(Path.Combine(stage.Root, "etc", "hosts"), "127.0.0.1   localhost localhost.localdomain localhost4 localhost4.localdomain4\n");
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Write, Root = stage.Root, Files = ImageLayout.Base() }, "writing the image's base layout");
        int status = _containers.Run(stage.Root, Runtime.Planning.ActionKind.Exec, ["/bin/busybox", "--install", "/bin"], [], writable: true);
        if (status != 0)
        {
            throw new BurrowException($"busybox --install failed in the new image (exit status {status})", "is MirrorURL a busybox for this machine's architecture?");
        }
    }

    private byte[] Download(string url, DefinitionStage d)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https" or "file"))
        {
            throw new DefinitionException(_definition.Path, d.LineOf("mirrorurl"), "header", $"MirrorURL \"{url}\" is not an http, https or file URL");
        }
        const int limit = 64 << 20;
        if (uri.IsFile)
        {
            using FileStream file = RegularFile.OpenRead(uri.LocalPath);
            return file.Length > limit ? throw new BurrowException($"{url} is larger than {limit >> 20} MiB; that is not a busybox binary")
                : File.ReadAllBytes(uri.LocalPath);
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        using HttpResponseMessage response = http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, Interruption.Token).GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw new BurrowException($"cannot fetch {url}: HTTP {(int)response.StatusCode}");
        }
        using Stream body = response.Content.ReadAsStream(Interruption.Token);
        using var ms = new MemoryStream();
        byte[] buffer = new byte[1 << 16];
        int n;
        while ((n = body.Read(buffer)) > 0)
        {
            if (ms.Length + n > limit)
            {
                throw new BurrowException($"{url} is larger than {limit >> 20} MiB; that is not a busybox binary");
            }
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    /// <summary>
    /// Debian's debootstrap, run on the host as root of the build's namespace (in a PID namespace of its own, so that
    /// it can mount /proc in the new root), told it is in a container (<c>container=lxc</c>) so that it does not try
    /// the mknod that no user namespace allows; the device nodes it would have made are added when the image is packed.
    /// </summary>
    private void FromDebootstrap(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        string release = Required(d, "osversion", "the release, such as bookworm");
        string mirror = Required(d, "mirrorurl", "the archive, such as http://deb.debian.org/debian");
        if (ExecutableSearch.OnPath("debootstrap") is null)
        {
            throw new BurrowException("Bootstrap: debootstrap needs Debian's debootstrap on this machine", "install it (apt install debootstrap)");
        }
        if (!_ns.HasRange)
        {
            throw new BurrowException("Bootstrap: debootstrap needs a subordinate id range: the packages it installs have files of other owners "
                + "(root:shadow, …), which only root mapped cannot hold",
                "ask the administrator for a range in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER)");
        }
        var argv = new List<string> { "debootstrap", "--variant=minbase" };
        if (d.HeaderValue("include") is { Length: > 0 } include)
        {
            argv.Add("--include=" + string.Join(',', include.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries)));
        }
        argv.AddRange([release, stage.Root, mirror]);
        Log.Info($"Running debootstrap {release} from {mirror} (this downloads and installs the base system)");
        int status = _ns.Exec(new BuildTask
        {
            Kind = BuildTaskKind.Exec,
            Argv = argv,
            Env = [.. BuildNamespace.ToolEnvironment(), "container=lxc", "DEBIAN_FRONTEND=noninteractive", "HOME=/root"],
            Cwd = "/",
        }, new Runtime.NamespacePlan { Pid = true, Init = true });
        if (status != 0)
        {
            throw new BurrowException($"debootstrap failed (exit status {status})", "its log is in the root file system's debootstrap/debootstrap.log; see the messages above");
        }
        // debootstrap bind-mounted the host's devices over files in /dev, in its own mount namespace; what is left are
        // those empty placeholders. The real nodes come from the pack.
        _ns.Run(new BuildTask
        {
            Kind = BuildTaskKind.Write, Root = stage.Root,
            Files = s_debootstrapDevices.Select(dev => new GeneratedFile(dev.Path, "", 0) { Type = 'r' }).ToArray(),
        }, "clearing /dev after debootstrap");
        stage.Devices.AddRange(s_debootstrapDevices);
    }
}
