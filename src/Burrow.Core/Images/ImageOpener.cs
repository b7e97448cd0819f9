using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Runtime.Serving;
using Burrow.Core.Squashfs;
using Burrow.Core.Sif;
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

    private static OpenedImage OpenSandbox(SandboxImageSpec spec, ImageOpenOptions options)
    {
        ImagePolicy.RequireKind(spec, Config.ImageKind.Sandbox, options.Config);
        using (SafeFileHandle directory = FileDescriptors.OpenPath(spec.Directory))
        {
            ImagePolicy.RequireLocation(spec, directory, options.Config);
        }
        var reader = new RootDirectoryReader(spec.Directory);
        return new OpenedImage(spec, ImageFormat.Sandbox, RootFsKind.Directory, spec.Directory, reader, [reader])
        {
            WritableByCaller = PathProbe.CanWrite(spec.Directory),
        };
    }

    private static string Pull(OciImageSpec spec, ImageOpenOptions options)
    {
        ImagePolicy.RequireKind(spec, Config.ImageKind.Oci, options.Config);
        ImagePolicy.RequireNoActiveEcl(spec, options.Config);
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
                ImagePolicy.RequireNoActiveEcl(spec, options.Config);
            }
            if (partition.FsType != SifFsType.Squash)
            {
                throw new BurrowException($"image {spec.Given}: the primary partition is {partition.FsType}, not squashfs; only squashfs can be run");
            }
            if (options.Unsquash)
            {
                sif.Dispose();
                return Unpacked(spec, file);
            }
            if (FuseDevice.Unusable() is { } why)
            {
                Log.Info($"cannot use {FuseDevice.Path} ({why}): unpacking the image instead of mounting it");
                sif.Dispose();
                return Unpacked(spec, file);
            }
            SquashfsImage squashfs;
            try
            {
                squashfs = SquashfsImage.Open(sif.FileHandle!, partition.Offset, partition.Size, file);
            }
            catch (UnsupportedSquashfsCompressorException e)
            {
                Log.Info(e.Message + "; unpacking the image with unsquashfs instead of mounting it");
                sif.Dispose();
                return Unpacked(spec, file);
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
            };
        }
        catch
        {
            sif.Dispose();
            throw;
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

    /// <summary>Apptainer's fallback when it cannot mount: the squashfs unpacked into a private temporary sandbox.</summary>
    private static OpenedImage Unpacked(ImageSpec spec, string file)
    {
        var sandbox = TemporarySandbox.Create();
        try
        {
            Log.Info("Converting SIF file to temporary sandbox...");
            SifSandbox.Extract(file, sandbox.Root);
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
