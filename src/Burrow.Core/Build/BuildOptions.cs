using Burrow.Core.Images;

namespace Burrow.Core.Build;

/// <summary>What <c>burrow build</c> was asked for, besides the definition itself.</summary>
public sealed record BuildOptions
{
    /// <summary>The SIF file, or with <see cref="Sandbox"/> the directory, to write.</summary>
    public required string Target { get; init; }

    public bool Sandbox { get; init; }

    /// <summary>--force: replace the target; also lets %labels override labels the image already has (Apptainer's rule).</summary>
    public bool Force { get; init; }

    /// <summary>--notest: skip %test.</summary>
    public bool NoTest { get; init; }

    /// <summary>--section: the sections to run ("all", or names such as post, files, environment).</summary>
    public IReadOnlyList<string> Sections { get; init; } = ["all"];

    /// <summary>How bootstrap images are pulled (architecture, compression of the result, cache).</summary>
    public PullOptions Pull { get; init; } = new();

    /// <summary>The directory relative %files sources and %setup run in.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>True when section <paramref name="name"/> runs (<c>--section</c>).</summary>
    public bool Runs(string name) => Sections.Contains("all") || (!Sections.Contains("none") && Sections.Contains(name));
}
