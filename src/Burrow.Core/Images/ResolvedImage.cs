using Burrow.Core.Runtime;

namespace Burrow.Core.Images;

/// <summary>An image ready to run: a root file system on the host and how to use it.</summary>
/// <param name="Reference">What the user wrote.</param>
/// <param name="RootPath">Absolute host path of the root file system.</param>
/// <param name="Kind">How the stage sets the root up.</param>
public sealed record ResolvedImage(string Reference, string RootPath, RootFsKind Kind);
