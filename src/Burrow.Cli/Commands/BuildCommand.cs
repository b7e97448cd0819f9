using System.CommandLine;
using Burrow.Core.Build;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Oci;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Linux;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow build [options] TARGET SOURCE</c>: a SIF file (or with --sandbox a directory) from a definition file,
/// a sandbox directory, a SIF file or an OCI source. Definition files build without privilege as Apptainer ≥ 1.1
/// does: --fakeroot is implied (root in a user namespace with the caller's subordinate range); see
/// <see cref="BuildEngine"/>. An OCI source comes through the cache like <c>pull</c>; a sandbox made from one is the
/// SIF's squashfs unpacked as the caller (owned by the caller, without device nodes).
/// </summary>
public static class BuildCommand
{
    /// <summary>The most a definition file may hold: a recipe, not data.</summary>
    private const int MaxDefinitionBytes = 4 << 20;

    public static Command Create()
    {
        var sandbox = new Option<bool>("--sandbox") { Description = "Build a sandbox directory instead of a SIF file" };
        var force = new Option<bool>("--force", "-F") { Description = "Overwrite the target if it exists (and let %labels replace the image's labels)" };
        var buildArg = new Option<string[]>("--build-arg") { Description = "NAME=VALUE for {{ NAME }} in the definition file (repeatable)", AllowMultipleArgumentsPerToken = false };
        var buildArgFile = new Option<string>("--build-arg-file") { Description = "A file of NAME=VALUE lines for {{ NAME }}" };
        var warnUnused = new Option<bool>("--warn-unused-build-args") { Description = "Warn about --build-arg values the definition does not use, instead of failing" };
        var fakeroot = new Option<bool>("--fakeroot", "-f") { Description = "Build as root of a user namespace with your subordinate range (implied for definition files)" };
        var section = new Option<string[]>("--section") { Description = "Run only these sections (all, none, setup, files, post, environment, runscript, startscript, test, labels, help; comma list)" };
        var notest = new Option<bool>("--notest", "-T") { Description = "Do not run the %test section" };
        var target = new Argument<string>("TARGET") { Description = "The SIF file (or with --sandbox, the directory) to build" };
        var source = new Argument<string>("SOURCE") { Description = "A definition file, a sandbox directory, a SIF file, or docker://, docker-archive:, oci:, oci-archive:" };
        var command = new Command("build", "Build a SIF file or a sandbox directory from a definition file or an image");
        foreach (Option o in new Option[] { sandbox, force, buildArg, buildArgFile, warnUnused, fakeroot, section, notest,
                     PullCommand.Arch, PullCommand.Compression, PullCommand.DisableCache, PullCommand.Insecure })
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
            var options = new BuildOptions
            {
                Target = to,
                Sandbox = result.GetValue(sandbox),
                Force = result.GetValue(force),
                NoTest = result.GetValue(notest),
                Sections = Sections(result.GetValue(section)),
                Pull = PullCommand.Options(result),
                WorkingDirectory = Environment.CurrentDirectory,
            };
            if (ImageSource.TryParse(from) is { } image)
            {
                return await FromOci(image, options, result, ct);
            }
            FileStatus st = FileStatus.OfPath(from) ?? throw new BurrowException($"build source {from} does not exist",
                "give a definition file, a sandbox directory, a SIF file or an OCI source such as docker://alpine");
            Definition definition;
            bool asRoot = result.GetValue(fakeroot);
            if (st.Kind == FileKind.Directory || (st.Kind == FileKind.Regular && SifSandbox.LooksLikeSif(from)))
            {
                // An image is built as a one-line definition, as Apptainer does (localimage).
                definition = DefinitionParser.Parse($"bootstrap: localimage\nfrom: {Path.GetFullPath(from)}\n", from);
            }
            else if (st.Kind == FileKind.Regular)
            {
                definition = ReadDefinition(from, result.GetValue(buildArg) ?? [], result.GetValue(buildArgFile), result.GetValue(warnUnused));
                if (!asRoot && ProcessSecurity.Uid != 0)
                {
                    Log.Info("Implying --fakeroot because building from a definition file unprivileged");
                }
                asRoot = true;
            }
            else
            {
                throw new BurrowException($"build source {from} is {st.Kind.Describe()}", "give a definition file, a sandbox directory or a SIF file");
            }
            using var engine = new BuildEngine(definition, options, Namespace(asRoot));
            engine.Build();
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The build's identity: with --fakeroot (implied for definition files) your subordinate range is mapped, so the
    /// image keeps the owners the recipe gives (files %post makes as root are root's in the image). Without a range
    /// that cannot be kept, so the build refuses with the fix rather than write an image whose owners are wrong.
    /// Without --fakeroot (an image copied or unpacked) only root is mapped, to you: Apptainer's unprivileged behaviour.
    /// </summary>
    private static BuildNamespace Namespace(bool fakeroot)
    {
        HostUser user = HostUserReader.Read();
        BuildNamespace ns = BuildNamespace.For(fakeroot, user, SubordinateIds.ReadFromHost(), RuntimePaths.FromProcess());
        if (fakeroot && !ns.HasRange && ProcessSecurity.Uid != 0)
        {
            throw new BurrowException(
                $"build: {user.Name} has no range in /etc/subuid and /etc/subgid, which an unprivileged build needs (its %post runs as root "
                + "of a user namespace, and the image keeps the owners it gives)",
                $"ask the administrator to add one: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user.Name}");
        }
        return ns;
    }

    private static Definition ReadDefinition(string path, IReadOnlyList<string> args, string? argFile, bool warnUnused)
    {
        string text = ReadText(path, "definition file");
        var warnings = new List<string>();
        IReadOnlyDictionary<string, string> given = BuildArguments.Read(args, argFile, f => ReadText(f, "build argument file"), warnings);
        Definition definition = DefinitionParser.Parse(text, path, given, out IReadOnlyList<string> unused);
        foreach (string w in warnings.Concat(definition.Warnings))
        {
            Log.Warning(w);
        }
        if (unused.Count > 0)
        {
            string list = string.Join(" ", unused);
            if (!warnUnused)
            {
                throw new BurrowException($"unused build arguments: {list} (the definition file {path} has no {{{{ NAME }}}} for them)",
                    "remove them, or pass --warn-unused-build-args to only warn", ExitCodes.Usage);
            }
            Log.Warning($"unused build arguments: {list}");
        }
        return definition;
    }

    private static string ReadText(string path, string what)
    {
        try
        {
            using FileStream f = RegularFile.OpenRead(path);
            if (f.Length > MaxDefinitionBytes)
            {
                throw new BurrowException($"the {what} {path} is larger than {MaxDefinitionBytes >> 20} MiB", "is it really a " + what + "?");
            }
            using var reader = new StreamReader(f, System.Text.Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (IOException e) when (e is not NotRegularFileException)
        {
            throw new BurrowException($"cannot read the {what} {path}: {FailureText.Reason(e)}", null, ExitCodes.Failure, e);
        }
    }

    private static IReadOnlyList<string> Sections(string[]? given)
    {
        string[] names = (given ?? []).SelectMany(s => s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        string[] known = ["all", "none", "setup", "files", "post", "environment", "runscript", "startscript", "test", "labels", "help"];
        foreach (string n in names)
        {
            if (!known.Contains(n))
            {
                throw new BurrowException($"--section {n}: there is no such section", "use any of: " + string.Join(", ", known), ExitCodes.Usage);
            }
        }
        return names.Length == 0 ? ["all"] : names;
    }

    /// <summary>An OCI source: the SIF from the cache (as pull), or unpacked into a sandbox as the caller.</summary>
    private static async Task<int> FromOci(ImageSource image, BuildOptions options, ParseResult result, CancellationToken ct)
    {
        // The target is checked, and opened by its directory, before anything is fetched.
        using OutputDirectory? tree = options.Sandbox ? OutputDirectory.Create(options.Target, options.Force, ImageSpec.RootMarkers) : null;
        using OutputFile? file = options.Sandbox ? null : OutputFile.Create(options.Target, options.Force);
        using TransferProgress? progress = TransferProgress.Create(result);
        using CancellationTokenSource cancel = Interruption.Linked(ct);
        PulledImage pulled = await new ImagePuller(new ImageCache(ImageCache.DefaultRoot())).PullAsync(image, options.Pull with { Progress = progress }, cancel.Token);
        if (tree is not null)
        {
            try
            {
                Log.Info($"Unpacking the image into the sandbox {options.Target}");
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
        Log.Info($"Build complete: {options.Target}");
        return 0;
    }
}
