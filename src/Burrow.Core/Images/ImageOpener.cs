using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Runtime.Serving;
using Burrow.Core.Squashfs;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Ecl;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Images;

/// <summary>How exec, run and shell want an image opened.</summary>
public sealed record ImageOpenOptions
{
    /// <summary>Unpack a SIF into a temporary sandbox instead of mounting it (<c>--unsquash</c>).</summary>
    public bool Unsquash { get; init; }

    /// <summary>How an OCI source is pulled into the cache.</summary>
    public PullOptions Pull { get; init; } = new();

    /// <summary>
    /// The execution control list to enforce on the image that will run, before anything of it is used: a SIF is
    /// verified before its squashfs is opened or unpacked, and then read only through the digests recorded while
    /// verifying (<see cref="VerifiedExtent"/>). Null or not activated: nothing is checked and nothing is paid.
    /// </summary>
    public ExecutionControl? Ecl { get; init; }

    /// <summary>The administrator's configuration: which kinds of image, from where and whose, may be opened (<see cref="ImagePolicy"/>).</summary>
    public Config.BurrowConfig Config { get; init; } = Burrow.Core.Config.BurrowConfig.Default;
}

/// <summary>Opens an <see cref="ImageSpec"/>: a sandbox as it is, a SIF by its primary partition, an OCI source through the cache.</summary>
public static class ImageOpener
{
    public static OpenedImage Open(ImageSpec spec, ImageOpenOptions options) => spec switch
    {
        SandboxImageSpec s => OpenSandbox(s, options),
        SifImageSpec s => OpenSif(s, s.File, options),
        OciImageSpec o => OpenSif(o, Pull(o, options), options),
        _ => throw new ArgumentException("unknown image kind", nameof(spec)),
    };

    /// <summary>
    /// The root of a running container, as its process <paramref name="pid"/> sees it (/proc/PID/root): what a command
    /// joining an instance is planned against. The image was judged (ECL, config) when the instance started.
    /// </summary>
    public static OpenedImage OpenRunning(InstanceImageSpec spec, int pid)
    {
        ArgumentNullException.ThrowIfNull(spec);
        string root = "/proc/" + pid.ToString(System.Globalization.CultureInfo.InvariantCulture) + "/root";
        var reader = new RootDirectoryReader(root);
        return new OpenedImage(spec, ImageFormat.Sandbox, RootFsKind.Directory, root, reader, [reader]);
    }

    private static OpenedImage OpenSandbox(SandboxImageSpec spec, ImageOpenOptions options)
    {
        ImagePolicy.RequireKind(spec, Config.ImageKind.Sandbox, options.Config);
        using (SafeFileHandle directory = FileDescriptors.OpenPath(spec.Directory))
        {
            ImagePolicy.RequireLocation(spec, directory, options.Config);
        }
        options.Ecl?.CheckUnsignable(spec.Directory, spec.Given);
        var reader = new RootDirectoryReader(spec.Directory);
        return new OpenedImage(spec, ImageFormat.Sandbox, RootFsKind.Directory, spec.Directory, reader, [reader])
        {
            WritableByCaller = PathProbe.CanWrite(spec.Directory),
        };
    }

    private static string Pull(OciImageSpec spec, ImageOpenOptions options)
    {
        ImagePolicy.RequireKind(spec, Config.ImageKind.Oci, options.Config);
        var cache = new ImageCache(ImageCache.DefaultRoot());
        PulledImage pulled = new ImagePuller(cache).PullAsync(spec.Source, options.Pull, CancellationToken.None).GetAwaiter().GetResult();
        return pulled.SifPath;
    }

    private static OpenedImage OpenSif(ImageSpec spec, string file, ImageOpenOptions options)
    {
        SifImage sif = OpenSifFile(spec, file);
        try
        {
            SifDescriptor partition = sif.PrimarySystemPartition
                ?? throw new BurrowException($"image {spec.Given}: the SIF has no primary system partition, so there is nothing to run",
                    "is it a data container? list its objects with: burrow sif list " + file);
            if (spec is SifImageSpec)
            {
                bool encrypted = partition.FsType is SifFsType.Encrypted or SifFsType.GocryptfsSquash;
                ImagePolicy.RequireKind(spec, encrypted ? Config.ImageKind.Encrypted : Config.ImageKind.Sif, options.Config);
                ImagePolicy.RequireLocation(spec, sif.FileHandle!, options.Config);
                    }
            if (partition.FsType != SifFsType.Squash)
            {
                throw new BurrowException($"image {spec.Given}: the primary partition is {partition.FsType}, not squashfs; only squashfs can be run");
            }
            // Before anything of the image is used (its squashfs opened or unpacked): the ECL, on this very descriptor.
            VerifiedExtent? verified = options.Ecl is { Activated: true } ecl
                ? ecl.CheckSif(sif, sif.FileHandle!, partition, spec.Given, (spec as OciImageSpec)?.Given)
                : null;
            if (options.Unsquash)
            {
                return Unpacked(spec, file, sif, verified);
            }
            if (FuseDevice.Unusable() is { } why)
            {
                Log.Info($"cannot use {FuseDevice.Path} ({why}): unpacking the image instead of mounting it");
                return Unpacked(spec, file, sif, verified);
            }
            SquashfsImage squashfs;
            try
            {
                squashfs = verified is null
                    ? SquashfsImage.Open(sif.FileHandle!, partition.Offset, partition.Size, file)
                    : SquashfsImage.Open(verified.Over(sif.FileHandle!), file);
            }
            catch (UnsupportedSquashfsCompressorException e)
            {
                Log.Info(e.Message + "; unpacking the image with unsquashfs instead of mounting it");
                return Unpacked(spec, file, sif, verified);
            }
            catch (InvalidDataException e)
            {
                throw new BurrowException($"image {spec.Given}: its squashfs partition is damaged: {e.Message}", "rebuild or pull the image again");
            }
            var fileSystem = new SquashfsFileSystem(squashfs, ownsImage: true);
            return new OpenedImage(spec, ImageFormat.Sif, RootFsKind.Squashfs, file, new SquashfsRootReader(squashfs), [sif, fileSystem],
                () => new FileSystemServer(fileSystem, file))
            {
                Squashfs = new SquashfsLocation(partition.Offset, partition.Size),
                Verified = verified is not null,
            };
        }
        catch
        {
            sif.Dispose();
            throw;
        }
    }

    private static void CopyVerified(VerifiedExtent verified, SifImage sif, string copy, string given)
    {
        byte[] buffer = new byte[1 << 20];
        using FileStream output = PrivateFiles.CreateFile(copy);
        for (long at = 0; at < verified.Length;)
        {
            int n;
            try
            {
                n = verified.Read(sif.FileHandle!, at, buffer);
            }
            catch (InvalidDataException e)
            {
                throw new BurrowException($"image {given}: {e.Message}", "the image was rewritten after it was verified: do not run it; get it again from its source");
            }
            output.Write(buffer, 0, n);
            at += n;
        }
    }

    private static SifImage OpenSifFile(ImageSpec spec, string file)
    {
        if (!SifSandbox.LooksLikeSif(file))
        {
            throw new BurrowException($"image {spec.Given}: {file} is neither a SIF file nor a directory", "give a SIF file, a root file system directory or an OCI reference");
        }
        try
        {
            return SifImage.Open(file);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"image {spec.Given}: cannot read the SIF file: {e.Message}");
        }
    }

    /// <summary>
    /// Apptainer's fallback when it cannot mount: the squashfs unpacked into a private temporary sandbox. A verified
    /// image is unpacked from a private copy of its verified bytes, never from the file again, which could have changed.
    /// </summary>
    private static OpenedImage Unpacked(ImageSpec spec, string file, SifImage sif, VerifiedExtent? verified)
    {
        var sandbox = TemporarySandbox.Create();
        try
        {
            Log.Info("Converting SIF file to temporary sandbox...");
            if (verified is null)
            {
                sif.Dispose();
                SifSandbox.Extract(file, sandbox.Root);
            }
            else
            {
                string copy = Path.Combine(sandbox.Directory, "verified.squashfs");
                CopyVerified(verified, sif, copy, spec.Given);
                sif.Dispose();
                SifSandbox.ExtractSquashfs(copy, 0, sandbox.Root, file);
                File.Delete(copy);
            }
            var reader = new RootDirectoryReader(sandbox.Root);
            return new OpenedImage(spec, ImageFormat.Sif, RootFsKind.Directory, sandbox.Root, reader, [sandbox, reader]);
        }
        catch
        {
            sandbox.Dispose();
            throw;
        }
    }
}
