using Burrow.Core.Diagnostics;

namespace Burrow.Core.Oci;

/// <summary>A registry refused, failed or could not be reached; the message names the registry and the object.</summary>
public sealed class RegistryException : BurrowException
{
    internal RegistryException(string message, string? hint = null, Exception? inner = null)
        : base(message, hint, ExitCodes.Failure, inner)
    {
    }
}

/// <summary>An image's bytes are wrong: a digest mismatch, a malformed manifest, or a layer entry that would escape the image.</summary>
public sealed class ImageFormatException : BurrowException
{
    internal ImageFormatException(string message, string? hint = null, Exception? inner = null)
        : base(message, hint, ExitCodes.Failure, inner)
    {
    }
}
