using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Images;
using Burrow.Core.Oci;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow pull [OUT.sif] REF</c>: an OCI image to a SIF file, through the cache.</summary>
public static class PullCommand
{
    public static readonly Option<bool> Force = new("--force", "-F") { Description = "Overwrite OUT.sif if it exists" };
    public static readonly Option<string?> Arch = new("--arch") { Description = "Architecture to pull from a multi-platform image (default: the host's)" };
    public static readonly Option<string> Compression = new("--compression")
    {
        Description = "Squashfs compression: zstd (default; fast, read by squashfuse and Apptainer ≥ 1.0) or gzip for older runtimes",
        DefaultValueFactory = _ => "zstd",
    };
    public static readonly Option<bool> DisableCache = new("--disable-cache") { Description = "Do not read or write the cache" };
    public static readonly Option<bool> Insecure = new("--insecure") { Description = "Allow plain HTTP to the registry" };

    public static Command Create()
    {
        var args = new Argument<string[]>("[OUT.sif] REF") { Arity = new ArgumentArity(1, 2), Description = "Output file (default: NAME_TAG.sif) and the image: docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("pull", "Pull an OCI image and convert it to a SIF file");
        foreach (Option o in new Option[] { Force, Arch, Compression, DisableCache, Insecure })
        {
            command.Options.Add(o);
        }
        command.Arguments.Add(args);
        command.SetAction((result, ct) =>
        {
            GlobalOptions.Apply(result);
            CliConfig.Load(result); // cache-dir, temp-dir, binary-path
            string[] values = result.GetValue(args)!;
            string reference = values[^1];
            ImageSource source = ImageSource.TryParse(reference)
                ?? throw new BurrowException($"\"{reference}\" is not an image source that can be pulled",
                    "use docker://NAME[:TAG], docker-archive:FILE, oci:DIR or oci-archive:FILE");
            string output = values.Length == 2 ? values[0] : DefaultName(source);
            return RunAsync(result, source, output, ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult result, ImageSource source, string output, CancellationToken ct)
    {
        PullOptions options = Options(result);
        // The output is checked, and its temp file made, before anything is fetched: a wrong directory fails at once.
        using OutputFile file = OutputFile.Create(output, overwrite: result.GetValue(Force));
        using var progress = TransferProgress.Create(result);
        using CancellationTokenSource cancel = Interruption.Linked(ct);
        PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(source, options with { Progress = progress }, cancel.Token);
        Deliver(pulled, file);
        file.Commit();
        Log.Info($"Image written to {output}");
        return 0;
    }

    /// <summary>
    /// Fills the output with the pulled SIF: copied from the cache, or (--disable-cache) the private temp SIF moved in,
    /// and its private directory removed whatever happens.
    /// </summary>
    public static void Deliver(PulledImage pulled, OutputFile file)
    {
        try
        {
            if (pulled.TempDirectory is not null)
            {
                file.TakeFrom(pulled.SifPath);
            }
            else
            {
                file.CopyFrom(pulled.SifPath);
            }
        }
        finally
        {
            if (pulled.TempDirectory is not null)
            {
                TemporaryDirectories.Remove(pulled.TempDirectory);
            }
        }
    }

    public static PullOptions Options(ParseResult result)
    {
        string compression = result.GetValue(Compression) ?? "zstd";
        if (!SquashfsBuilder.Compressions.Contains(compression))
        {
            throw new BurrowException($"--compression {compression}: unknown squashfs compression", "use one of: " + string.Join(", ", SquashfsBuilder.Compressions), ExitCodes.Usage);
        }
        return new PullOptions
        {
            Arch = CheckedArch(result.GetValue(Arch)),
            Compression = compression,
            DisableCache = result.GetValue(DisableCache),
            Insecure = result.GetValue(Insecure),
        };
    }

    /// <summary>--arch ARCH[/VARIANT] with an OCI (Go) architecture name: a typo must not pass silently.</summary>
    private static string CheckedArch(string? arch)
    {
        if (arch is null)
        {
            return Burrow.Core.Oci.Sources.ManifestReader.HostArchitecture;
        }
        string[] parts = arch.Split('/');
        bool variantOk = parts.Length == 1 || (parts.Length == 2 && parts[1].Length is > 0 and <= 16 && parts[1].All(char.IsAsciiLetterOrDigit));
        if (!variantOk || !Burrow.Core.Sif.SifArch.Names.Contains(parts[0]))
        {
            throw new BurrowException($"--arch {arch}: unknown architecture", "use one of: " + string.Join(", ", Burrow.Core.Sif.SifArch.Names) + " (optionally with /VARIANT, e.g. arm/v7)", ExitCodes.Usage);
        }
        return arch;
    }

    private static string DefaultName(ImageSource source) => source switch
    {
        RegistrySource r => r.Reference.DefaultFileName(),
        DockerArchiveSource d => Path.GetFileNameWithoutExtension(d.Path) + ".sif",
        OciArchiveSource a => Path.GetFileNameWithoutExtension(a.Path) + ".sif",
        OciLayoutSource l => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(l.Path))) + (l.Tag is null ? "" : "_" + l.Tag) + ".sif",
        _ => "image.sif",
    };
}
