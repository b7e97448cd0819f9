namespace Burrow.Core.Fuse;

/// <summary>How a <see cref="FuseServer"/> serves; the defaults are the measured best (bench/README.md, "FUSE server").</summary>
public sealed record FuseServerOptions
{
    /// <summary>Worker threads answering requests: one per core, at least 2 (so one slow image read never stalls all).</summary>
    public int Threads { get; init; } = Math.Max(2, Environment.ProcessorCount);

    /// <summary>Names the image in warnings ("WARNING: /home/u/app.sif: …").</summary>
    public string ImageName { get; init; } = "image";

    /// <summary>How long the kernel may trust names, attributes and absent names. The image never changes.</summary>
    public TimeSpan CacheTimeout { get; init; } = TimeSpan.FromDays(365);

    /// <summary>
    /// Answer OPEN and OPENDIR with ENOSYS once, so the kernel stops sending OPEN/RELEASE (it then keeps every file's
    /// cache, as FOPEN_KEEP_CACHE would). Off: each open is a round trip that answers FOPEN_KEEP_CACHE.
    /// </summary>
    public bool ZeroMessageOpen { get; init; } = true;

    /// <summary>Ask for FUSE_READDIRPLUS_AUTO (plain READDIR unless the kernel guesses attributes are wanted).</summary>
    public bool ReaddirplusAuto { get; init; }

    /// <summary>
    /// Give each worker its own descriptor on the connection (FUSE_DEV_IOC_CLONE, as libfuse's clone_fd): each has
    /// its own queue of requests in processing. Needs /dev/fuse openable by the serving process.
    /// </summary>
    public bool CloneDevicePerThread { get; init; }
}
