using System.CommandLine;
using Burrow.Core.Diagnostics;
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
        bool force = result.GetValue(Force);
        if (File.Exists(output) && !force)
        {
            throw new BurrowException($"image file already exists: {output}", "use --force to overwrite it");
        }
        PullOptions options = Options(result);
        using var progress = TransferProgress.Create(result);
        PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(source, options with { Progress = progress }, ct);
        try
        {
            CopyInto(pulled.SifPath, output, move: pulled.TempDirectory is not null);
        }
        finally
        {
            if (pulled.TempDirectory is not null)
            {
                Directory.Delete(pulled.TempDirectory, recursive: true);
            }
        }
        Log.Info($"Image written to {output}");
        return 0;
    }

    public static PullOptions Options(ParseResult result) => new()
    {
        Arch = result.GetValue(Arch) ?? Burrow.Core.Oci.Sources.ManifestReader.HostArchitecture,
        Compression = result.GetValue(Compression) ?? "zstd",
        DisableCache = result.GetValue(DisableCache),
        Insecure = result.GetValue(Insecure),
    };

    /// <summary>
    /// Copies (or, for a private temp SIF about to be deleted, moves) through a temp name beside the target, so OUT.sif
    /// is either the old file or the whole new one.
    /// </summary>
    public static void CopyInto(string from, string to, bool move)
    {
        string full = Path.GetFullPath(to);
        string temp = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + ".tmp" + Environment.ProcessId);
        try
        {
            if (move)
            {
                File.Move(from, temp, overwrite: true); // copies by itself across file systems
            }
            else
            {
                File.Copy(from, temp, overwrite: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temp);
            throw new BurrowException($"cannot write {to}: {e.Message}");
        }
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
