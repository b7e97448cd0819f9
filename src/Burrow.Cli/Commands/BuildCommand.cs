using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
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
            // The target is checked, and opened by its directory, before anything is fetched.
            using OutputDirectory? tree = toSandbox ? OutputDirectory.Create(to, overwrite, ImageSpec.RootMarkers) : null;
            using OutputFile? file = toSandbox ? null : OutputFile.Create(to, overwrite);
            using TransferProgress? progress = TransferProgress.Create(result);
            using CancellationTokenSource cancel = Interruption.Linked(ct);
            PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(image, PullCommand.Options(result) with { Progress = progress }, cancel.Token);
            if (tree is not null)
            {
                try
                {
                    Log.Info($"Unpacking the image into the sandbox {to}");
                    SifSandbox.Extract(pulled.SifPath, tree.WorkPath);
                    tree.Commit();
                }
                finally
                {
                    if (pulled.TempDirectory is not null)
                    {
                        TemporaryDirectories.Remove(pulled.TempDirectory);
                    }
                }
            }
            else
            {
                PullCommand.Deliver(pulled, file!);
                file!.Commit();
            }
            Log.Info($"Build complete: {to}");
            return 0;
        });
        return command;
    }
}
