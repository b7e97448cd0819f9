namespace Burrow.Core.Build;

/// <summary>
/// A definition file as Apptainer reads it (docs/ARCHITECTURE.md, "Building images"): one or more stages, each
/// starting at a <c>Bootstrap:</c> header, after build arguments were substituted. <see cref="FullRaw"/> is the
/// recipe the image records (the SIF's deffile object, <c>/.singularity.d/Singularity</c>).
/// </summary>
public sealed record Definition(string Path, string FullRaw, IReadOnlyList<DefinitionStage> Stages)
{
    /// <summary>What the parser noticed but did not refuse (a malformed %arguments line, an unused build argument).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>The stage that becomes the image: the last one.</summary>
    public DefinitionStage Final => Stages[^1];

    /// <summary>The stage named <paramref name="name"/> by its <c>Stage:</c> header, or null.</summary>
    public DefinitionStage? StageNamed(string name) => Stages.FirstOrDefault(s => s.Name == name);
}

/// <summary>A section's body, its arguments (<c>%post -c /bin/bash</c>) and where it starts (1-based line of its % line).</summary>
public sealed record DefinitionScript(string Text, string Args, int Line)
{
    public bool IsEmpty => Text.Trim().Length == 0;

    /// <summary>The line of the file that holds line <paramref name="bodyLine"/> (1-based) of the body.</summary>
    public int FileLine(int bodyLine) => Line + bodyLine;
}

/// <summary>One <c>%files</c> line: a source (host path, or a path in another stage) and a destination in the image.</summary>
public sealed record FileTransfer(string Source, string Destination, int Line);

/// <summary>A <c>%files</c> section (<c>%files from STAGE</c> copies from another stage's root file system).</summary>
public sealed record FilesSection(string? FromStage, IReadOnlyList<FileTransfer> Files, int Line);

/// <summary>A <c>KEY VALUE</c> line of <c>%labels</c> or <c>%applabels</c>.</summary>
public sealed record LabelLine(string Key, string Value, int Line);

/// <summary>The <c>%app*</c> sections of one SCIF app, in the definition's order of first appearance.</summary>
public sealed record AppDefinition(string Name)
{
    public DefinitionScript? Install { get; init; }
    public DefinitionScript? Files { get; init; }
    public DefinitionScript? Environment { get; init; }
    public DefinitionScript? Test { get; init; }
    public DefinitionScript? Help { get; init; }
    public DefinitionScript? Run { get; init; }
    public DefinitionScript? Start { get; init; }
    public IReadOnlyList<LabelLine> Labels { get; init; } = [];
}

/// <summary>One stage of a definition: its header and sections.</summary>
public sealed record DefinitionStage
{
    /// <summary>Header keywords in lower case (<c>bootstrap</c>, <c>from</c>, <c>stage</c>, <c>osversion</c> …) and their values.</summary>
    public required IReadOnlyDictionary<string, string> Header { get; init; }

    /// <summary>The file line of each header keyword, for messages.</summary>
    public IReadOnlyDictionary<string, int> HeaderLines { get; init; } = new Dictionary<string, int>();

    /// <summary>This stage's text after substitution.</summary>
    public required string Raw { get; init; }

    /// <summary>The file line this stage starts on (1-based).</summary>
    public required int FirstLine { get; init; }

    public DefinitionScript? Help { get; init; }
    public DefinitionScript? Setup { get; init; }
    public DefinitionScript? Pre { get; init; }
    public DefinitionScript? Post { get; init; }
    public DefinitionScript? Runscript { get; init; }
    public DefinitionScript? Startscript { get; init; }
    public DefinitionScript? Test { get; init; }
    public DefinitionScript? Environment { get; init; }
    public DefinitionScript? Arguments { get; init; }
    public IReadOnlyList<LabelLine> Labels { get; init; } = [];
    public IReadOnlyList<FilesSection> Files { get; init; } = [];
    public IReadOnlyList<AppDefinition> Apps { get; init; } = [];

    public string? Bootstrap => Header.TryGetValue("bootstrap", out string? v) ? v : null;

    public string? From => Header.TryGetValue("from", out string? v) ? v : null;

    /// <summary>The <c>Stage:</c> name other stages copy from with <c>%files from NAME</c>.</summary>
    public string? Name => Header.TryGetValue("stage", out string? v) ? v : null;

    public string? HeaderValue(string key) => Header.TryGetValue(key, out string? v) ? v : null;

    /// <summary>The line of a header keyword, else the stage's first line.</summary>
    public int LineOf(string key) => HeaderLines.TryGetValue(key, out int line) ? line : FirstLine;
}
