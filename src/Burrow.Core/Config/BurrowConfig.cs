namespace Burrow.Core.Config;

/// <summary>The kinds of image an administrator can allow or forbid (<c>allow-image-kinds</c>).</summary>
public enum ImageKind
{
    /// <summary>A SIF file whose system partition is plain squashfs.</summary>
    Sif,

    /// <summary>A directory holding a root file system.</summary>
    Sandbox,

    /// <summary>An OCI source: docker://, docker-archive:, oci:, oci-archive: (pulled and converted to a SIF).</summary>
    Oci,

    /// <summary>A SIF whose system partition is encrypted.</summary>
    Encrypted,
}

/// <summary>What a <c>mount-*</c> key says: mount it, do not, or (for /dev only) a minimal one.</summary>
public enum MountMode { Yes, No, Minimal }

/// <summary>Where a configuration value came from: a line of a file, or Burrow's built-in default.</summary>
public sealed record ConfigOrigin(string? File, int Line)
{
    public static ConfigOrigin BuiltIn { get; } = new(null, 0);

    public bool IsDefault => File is null;

    public override string ToString() => File is null ? "default" : $"{File} line {Line}";
}

/// <summary>
/// The administrator's configuration (<c>burrow.conf</c>), read once at the edge by <see cref="ConfigLoader"/> and
/// handed to the planner, the image opener and the identity resolver as data. Every key of the file is one property
/// here; <see cref="Origins"/> says which line set it, so that a refusal can name the key, the file and the line.
/// </summary>
public sealed record BurrowConfig
{
    /// <summary>Every key at its default, as if the file were empty (tests, and an installation without a file).</summary>
    public static BurrowConfig Default { get; } = new();

    /// <summary>The file the values came from; null when none was read.</summary>
    public string? File { get; init; }

    /// <summary><c>allow-image-kinds</c>: which kinds of image may run.</summary>
    public IReadOnlySet<ImageKind> AllowedImageKinds { get; init; } = new HashSet<ImageKind> { ImageKind.Sif, ImageKind.Sandbox, ImageKind.Oci, ImageKind.Encrypted };

    /// <summary><c>limit-container-paths</c>: when not empty, only images (by their real path) under one of these directories run.</summary>
    public IReadOnlyList<string> LimitContainerPaths { get; init; } = [];

    /// <summary><c>limit-container-owners</c>: when not empty, only images owned by one of these users (names or uids) run.</summary>
    public IReadOnlyList<string> LimitContainerOwners { get; init; } = [];

    /// <summary><c>bind-path</c>: host paths bound into every container when they exist (<c>src[:dst[:ro|rw]]</c>).</summary>
    public IReadOnlyList<string> BindPaths { get; init; } = ["/etc/hosts:/etc/hosts:ro", "/etc/localtime:/etc/localtime:ro"];

    /// <summary><c>user-bind-control</c>: whether users may add their own binds (-B/--bind).</summary>
    public bool UserBindControl { get; init; } = true;

    /// <summary><c>mount-home</c>, <c>mount-tmp</c>, <c>mount-proc</c>, <c>mount-sys</c>: Yes or No; <c>mount-dev</c> also Minimal.</summary>
    public MountMode MountHome { get; init; } = MountMode.Yes;
    public MountMode MountTmp { get; init; } = MountMode.Yes;
    public MountMode MountProc { get; init; } = MountMode.Yes;
    public MountMode MountSys { get; init; } = MountMode.Yes;
    public MountMode MountDev { get; init; } = MountMode.Yes;

    /// <summary><c>allow-pid-ns</c>, <c>allow-ipc-ns</c>, <c>allow-uts-ns</c>, <c>allow-net-ns</c>: whether users may ask for these namespaces.</summary>
    public bool AllowPidNs { get; init; } = true;
    public bool AllowIpcNs { get; init; } = true;
    public bool AllowUtsNs { get; init; } = true;
    public bool AllowNetNs { get; init; } = true;

    /// <summary><c>allow-fakeroot</c>: whether --fakeroot may be used.</summary>
    public bool AllowFakeroot { get; init; } = true;

    /// <summary><c>allow-userns-modes</c>: which --userns modes ("auto", "keep-id") may be used.</summary>
    public IReadOnlySet<string> AllowedUserNsModes { get; init; } = new HashSet<string>(StringComparer.Ordinal) { UserNsModes.Auto, UserNsModes.KeepId };

    /// <summary><c>sessiondir-max-size</c>: MiB the session tmpfs may hold (what --writable-tmpfs can write); Apptainer's default.</summary>
    public int SessionDirMaxSizeMiB { get; init; } = 64;

    /// <summary><c>cache-dir</c>: the image cache when $BURROW_CACHEDIR is not set ($USER, $UID and $HOME expanded); null: the default.</summary>
    public string? CacheDir { get; init; }

    /// <summary><c>temp-dir</c>: where temporary sandboxes and downloads go when $BURROW_TMPDIR is not set; null: $TMPDIR, else /tmp.</summary>
    public string? TempDir { get; init; }

    /// <summary><c>binary-path</c>: where helpers (squashfuse_ll, unsquashfs, newuidmap…) are looked for; <c>$PATH</c> is the caller's PATH.</summary>
    public string BinaryPath { get; init; } = DefaultBinaryPath;

    /// <summary><c>ecl-file</c>: the execution control list (<see cref="Trust.TrustPaths.EclFileOverride"/>), absolute; the loader resolves it (default: ecl.toml beside the configuration).</summary>
    public string EclFile { get; init; } = "/etc/burrow/ecl.toml";

    /// <summary>The line each key was set on; a key that is absent has its default.</summary>
    public IReadOnlyDictionary<string, ConfigOrigin> Origins { get; init; } = new Dictionary<string, ConfigOrigin>(StringComparer.Ordinal);

    public const string DefaultBinaryPath = "$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public ConfigOrigin OriginOf(string key) => Origins.TryGetValue(key, out ConfigOrigin? origin) ? origin : ConfigOrigin.BuiltIn;

    /// <summary>"allow-pid-ns = false (/opt/burrow/etc/burrow/burrow.conf line 12)": for messages that refuse what a key forbids.</summary>
    public string Cite(string key)
    {
        string value = ConfigKeys.Render(this, key);
        ConfigOrigin origin = OriginOf(key);
        return origin.IsDefault ? $"{key} = {value} (Burrow's default)" : $"{key} = {value} in {origin.File} line {origin.Line}";
    }

    public bool Allows(ImageKind kind) => AllowedImageKinds.Contains(kind);
}

/// <summary>The --userns modes as the configuration names them.</summary>
public static class UserNsModes
{
    public const string Auto = "auto";
    public const string KeepId = "keep-id";
}
