using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Burrow.Core.Oci;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow build OUT.sif REF</c> and <c>burrow build --sandbox DIR REF</c> from an OCI source (definition files
/// come later). The SIF comes through the cache like <c>pull</c>; a sandbox is the SIF's squashfs unpacked, which
/// unprivileged means owned by the caller and without device nodes.
/// </summary>
public static class BuildCommand
{
    public static Command Create()
    {
        var sandbox = new Option<bool>("--sandbox") { Description = "Build a sandbox directory instead of a SIF file" };
        var force = new Option<bool>("--force", "-F") { Description = "Overwrite the target if it exists" };
        var target = new Argument<string>("TARGET") { Description = "The SIF file (or with --sandbox, the directory) to build" };
        var source = new Argument<string>("SOURCE") { Description = "docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("build", "Build a SIF file or a sandbox directory from an OCI image");
        foreach (Option o in new Option[] { sandbox, force, PullCommand.Arch, PullCommand.Compression, PullCommand.DisableCache, PullCommand.Insecure })
        {
            command.Options.Add(o);
        }
        command.Arguments.Add(target);
        command.Arguments.Add(source);
        command.SetAction(async (result, ct) =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            string to = result.GetValue(target)!;
            string from = result.GetValue(source)!;
            ImageSource image = ImageSource.TryParse(from) ?? throw (from.EndsWith(".def", StringComparison.Ordinal) || File.Exists(from) && !SifSandbox.LooksLikeSif(from)
                ? new BurrowException($"build from a definition file ({from}) is not supported yet", "build from docker://, docker-archive:, oci: or oci-archive:")
                : new BurrowException($"\"{from}\" is not an image source Burrow can build from", "build from docker://, docker-archive:, oci: or oci-archive:"));
            bool overwrite = result.GetValue(force);
            bool toSandbox = result.GetValue(sandbox);
            if (toSandbox)
            {
                PrepareSandboxTarget(to, overwrite);
            }
            else if (File.Exists(to) && !overwrite)
            {
                throw new BurrowException($"image file already exists: {to}", "use --force to overwrite it");
            }
            using TransferProgress? progress = TransferProgress.Create(result);
            PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(image, PullCommand.Options(result) with { Progress = progress }, ct);
            try
            {
                if (toSandbox)
                {
                    Log.Info($"Unpacking the image into the sandbox {to}");
                    SifSandbox.Extract(pulled.SifPath, to);
                }
                else
                {
                    PullCommand.CopyInto(pulled.SifPath, to, move: pulled.TempDirectory is not null);
                }
            }
            finally
            {
                if (pulled.TempDirectory is not null)
                {
                    Directory.Delete(pulled.TempDirectory, recursive: true);
                }
            }
            Log.Info($"Build complete: {to}");
            return 0;
        });
        return command;
    }

    /// <summary>An existing non-empty directory is replaced only with --force, and only if it looks like a root file system.</summary>
    private static void PrepareSandboxTarget(string dir, bool force)
    {
        if (File.Exists(dir))
        {
            throw new BurrowException($"sandbox target {dir} is a file");
        }
        if (!Directory.Exists(dir) || !Directory.EnumerateFileSystemEntries(dir).Any())
        {
            return;
        }
        if (!force)
        {
            throw new BurrowException($"sandbox directory already exists: {dir}", "use --force to replace it");
        }
        if (!ImageSpec.RootMarkers.Any(m => Directory.Exists(Path.Combine(dir, m))))
        {
            throw new BurrowException($"refusing to replace {dir}: it does not look like a sandbox (none of /{string.Join(", /", ImageSpec.RootMarkers)})");
        }
        Directory.Delete(dir, recursive: true);
    }
}
