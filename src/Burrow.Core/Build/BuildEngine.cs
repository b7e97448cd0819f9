using System.Text;
using System.Text.Json;
using Burrow.Core.Build.Tasks;
using Burrow.Core.Diagnostics;
using Burrow.Core.Files;
using Burrow.Core.Images;
using Burrow.Core.Sif;
using Burrow.Linux;

namespace Burrow.Core.Build;

/// <summary>
/// Builds an image from a <see cref="Definition"/> without privilege (docs/ARCHITECTURE.md, "Building images"). Each
/// stage's root file system is made in a private temporary directory, in the order Apptainer uses: bootstrap, the
/// base layout and SCIF apps, %files from earlier stages, %setup (on the host), %files from the host, %post (in a
/// container of the stage), the metadata, %test. The file work runs as root of the build's user namespace
/// (<see cref="BuildNamespace"/>), %post and %test in containers with the same maps, so the owners on disk are host
/// ids that mean the container's. The last stage becomes the target: packed to a squashfs with the container's owners
/// and written as a SIF under a temporary name, or moved into place as a sandbox. The work directory is removed at
/// the end, on failure and after SIGINT/SIGTERM/SIGHUP alike.
/// </summary>
public sealed partial class BuildEngine : IDisposable
{
    private readonly Definition _definition;
    private readonly BuildOptions _options;
    private readonly BuildNamespace _ns;
    private readonly string _workspace;
    private readonly BuildContainer _containers;
    private readonly Dictionary<string, StageState> _named = new(StringComparer.Ordinal);
    private readonly List<StageState> _stages = [];

    /// <summary>One stage being built: its root file system and what the pack must add to it.</summary>
    private sealed class StageState(DefinitionStage definition, string root, int index)
    {
        public DefinitionStage Definition { get; } = definition;
        public string Root { get; } = root;
        public int Index { get; } = index;
        public List<TreeEntry> Devices { get; } = [];
        public string Arch { get; set; } = SifArch.Host;
        public string? BaseName { get; set; }
        public string? BaseDigest { get; set; }
    }

    public BuildEngine(Definition definition, BuildOptions options, BuildNamespace ns)
    {
        _definition = definition ?? throw new ArgumentNullException(nameof(definition));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _ns = ns ?? throw new ArgumentNullException(nameof(ns));
        _workspace = TemporaryDirectories.Create("burrow-build");
        string tmp = MakeDirectory("tmp", 0x3ff);
        string varTmp = MakeDirectory("var-tmp", 0x3ff);
        _containers = new BuildContainer(ns, tmp, varTmp);
    }

    /// <summary>Builds every stage and writes the target; throws a <see cref="BurrowException"/> on any failure.</summary>
    public void Build()
    {
        // The target is checked (and its directory held) before any work: a build that could not be written is not started.
        using OutputFile? file = _options.Sandbox ? null : OutputFile.Create(_options.Target, _options.Force);
        using OutputDirectory? tree = _options.Sandbox ? OutputDirectory.Create(_options.Target, _options.Force, ImageSpec.RootMarkers) : null;
        Log.Info("Starting build...");
        for (int i = 0; i < _definition.Stages.Count; i++)
        {
            DefinitionStage stage = _definition.Stages[i];
            if (_definition.Stages.Count > 1)
            {
                Log.Info($"Building stage {stage.Name ?? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)} ({i + 1} of {_definition.Stages.Count})");
            }
            var state = new StageState(stage, Path.Combine(MakeDirectory("stage-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), 0x1c0), "rootfs"), i);
            FileSystem.MakeDirectory(state.Root, 0x1ed);
            BuildStage(state);
            _stages.Add(state);
            if (stage.Name is { } name)
            {
                _named[name] = state;
            }
        }
        StageState final = _stages[^1];
        if (tree is not null)
        {
            AssembleSandbox(final, tree);
        }
        else
        {
            AssembleSif(final, file!);
        }
        Log.Info($"Build complete: {_options.Target}");
    }

    private void BuildStage(StageState stage)
    {
        DefinitionStage d = stage.Definition;
        Bootstrap(stage);
        Interruption.ThrowIfRequested();
        _ns.Run(new BuildTask { Kind = BuildTaskKind.Write, Root = stage.Root, Files = [.. ImageLayout.Base(), .. ImageLayout.Apps(d.Apps)] },
            "writing the image's base layout");
        CopyAppFiles(stage);
        if (_options.Runs("files"))
        {
            CopyFiles(stage, fromStages: true);
        }
        if (_options.Runs("setup") && d.Setup is { IsEmpty: false } setup)
        {
            RunSetup(stage, setup);
        }
        if (_options.Runs("files"))
        {
            CopyFiles(stage, fromStages: false);
        }
        if (_options.Runs("post"))
        {
            RunPost(stage);
        }
        WriteMetadata(stage);
        if (_options.Runs("test") && !_options.NoTest && d.Test is { IsEmpty: false })
        {
            Log.Info("Running testscript");
            int status = _containers.Run(stage.Root, Runtime.Planning.ActionKind.Test, [], [], writable: false);
            if (status != 0)
            {
                throw new BurrowException($"%test failed with exit status {status} ({_definition.Path}, line {d.Test.Line})",
                    "fix the test, or skip it with --notest", status);
            }
        }
    }

    private string MakeDirectory(string name, int mode)
    {
        string path = Path.Combine(_workspace, name);
        FileSystem.MakeDirectory(path, mode);
        return path;
    }

    /// <summary>Removes the work directory (through the build's namespace: its files may belong to the subordinate range).</summary>
    public void Dispose()
    {
        try
        {
            _ns.Remove([.. Directory.EnumerateFileSystemEntries(_workspace)]);
        }
        catch (Exception e) when (e is BurrowException or IOException or UnauthorizedAccessException)
        {
            Log.Warning($"could not remove the build's files in {_workspace}: {FailureText.Reason(e)}");
        }
        TemporaryDirectories.Remove(_workspace);
    }

    private void AssembleSif(StageState stage, OutputFile file)
    {
        Log.Info("Creating SIF file...");
        string squashfs = Path.Combine(_workspace, "rootfs.sqfs");
        _ns.Run(new BuildTask
        {
            Kind = BuildTaskKind.Pack, Root = stage.Root, Output = squashfs, Compression = _options.Pull.Compression, Extra = stage.Devices,
        }, "packing the image into a squashfs");
        byte[] inspect = InspectMetadata(stage);
        using (FileStream partition = RegularFile.OpenRead(squashfs, 1 << 20))
        {
            SifObjectSpec[] objects =
            [
                new(SifDataType.Deffile, new MemoryStream(Encoding.UTF8.GetBytes(_definition.FullRaw))),
                new(SifDataType.GenericJson, new MemoryStream(inspect)) { Name = "inspect-metadata.json" },
                new(SifDataType.Partition, partition)
                {
                    FsType = SifFsType.Squash,
                    PartitionType = SifPartitionType.PrimarySystem,
                    Arch = stage.Arch,
                },
            ];
            SifBuilder.Create(file.Stream, objects, new SifCreateOptions { LaunchScript = "#!/usr/bin/env run-singularity\n" });
        }
        File.Delete(squashfs);
        file.Commit();
    }

    private void AssembleSandbox(StageState stage, OutputDirectory tree)
    {
        Log.Info($"Creating sandbox directory {_options.Target}");
        using DirectoryHandle from = DirectoryHandle.Open(Path.GetDirectoryName(stage.Root)!);
        if (!tree.TryTake(from, Path.GetFileName(stage.Root)))
        {
            // Another file system: the tree is copied into place by the namespace, which can read every owner's file.
            using DirectoryHandle work = tree.CreateWorkDirectory(0x1ed);
            string into = "/proc/self/fd/" + ((int)work.Handle.DangerousGetHandle()).ToString(System.Globalization.CultureInfo.InvariantCulture);
            _ns.Run(new BuildTask { Kind = BuildTaskKind.CopyTree, Source = stage.Root, Root = into }, "copying the sandbox into place", pass: [work.Handle]);
        }
        tree.Commit(old => _ns.Remove(old));
    }

    /// <summary>Apptainer's inspect-metadata.json for the image: labels, environment scripts, scripts, recipe, apps.</summary>
    private byte[] InspectMetadata(StageState stage)
    {
        using RootDirectory root = RootDirectory.Open(stage.Root);
        string Read(string path) => TryRead(root, path) ?? "";
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteStartObject("data");
            w.WriteStartObject("attributes");
            w.WriteStartObject("labels");
            foreach ((string k, string v) in ReadLabels(root, ImageLayout.LabelsJson))
            {
                w.WriteString(k, v);
            }
            w.WriteEndObject();
            w.WriteStartObject("environment");
            foreach (string script in EnvironmentScripts(root))
            {
                w.WriteString(ImageLayout.Meta + "/env/" + script, Read(ImageLayout.Meta + "/env/" + script));
            }
            w.WriteEndObject();
            foreach ((string key, string file) in new[] { ("runscript", "runscript"), ("startscript", "startscript"), ("test", "test"), ("helpfile", "runscript.help") })
            {
                if (TryRead(root, ImageLayout.Meta + "/" + file) is { } content)
                {
                    w.WriteString(key, content);
                }
            }
            w.WriteString("deffile", _definition.FullRaw);
            if (stage.Definition.Apps.Count > 0)
            {
                w.WriteStartObject("apps");
                foreach (AppDefinition app in stage.Definition.Apps)
                {
                    string meta = "/scif/apps/" + app.Name + "/scif/";
                    w.WriteStartObject(app.Name);
                    foreach ((string key, string file) in new[] { ("runscript", "runscript"), ("startscript", "startscript"), ("test", "test"), ("helpfile", "runscript.help") })
                    {
                        if (TryRead(root, meta + file) is { } content)
                        {
                            w.WriteString(key, content);
                        }
                    }
                    w.WriteStartObject("labels");
                    foreach ((string k, string v) in ReadLabels(root, meta + "labels.json"))
                    {
                        w.WriteString(k, v);
                    }
                    w.WriteEndObject();
                    w.WriteStartObject("environment");
                    if (TryRead(root, meta + "env/90-environment.sh") is { } env)
                    {
                        w.WriteString(meta + "env/90-environment.sh", env);
                    }
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteString("type", "container");
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private static IReadOnlyList<string> EnvironmentScripts(RootDirectory root)
    {
        using Microsoft.Win32.SafeHandles.SafeFileHandle? dir = root.TryOpenPath(ImageLayout.Meta + "/env");
        if (dir is null || FileStatus.Of(dir, "env").Kind != FileKind.Directory)
        {
            return [];
        }
        using DirectoryHandle env = DirectoryHandle.FromHandle(FileDescriptors.Duplicate(dir), root.HostPath + ImageLayout.Meta + "/env", pathOnly: true);
        return env.List().Where(n => n.EndsWith(".sh", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(ImageMetadataReader.MaxEnvironmentScripts).ToArray();
    }

    /// <summary>A file of the image read as the caller (what %post made as root is the caller's); null when missing or unreadable.</summary>
    private static string? TryRead(RootDirectory root, string path)
    {
        try
        {
            return root.ReadText(path, ImageMetadataReader.MaxFileBytes);
        }
        catch (Exception e) when (e is LinuxException or IOException or UnauthorizedAccessException)
        {
            Log.Verbose($"cannot read {path} of the image: {FailureText.Reason(e)}");
            return null;
        }
    }

    private static IReadOnlyList<(string Key, string Value)> ReadLabels(RootDirectory root, string path)
    {
        if (TryRead(root, path) is not { Length: > 0 } text)
        {
            return [];
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? doc.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.ToString())).ToArray()
                : [];
        }
        catch (JsonException e)
        {
            Log.Warning($"{path} of the image is not valid JSON ({e.Message}); its labels are left out");
            return [];
        }
    }
}
