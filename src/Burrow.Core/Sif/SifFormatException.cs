using Burrow.Core.Diagnostics;

namespace Burrow.Core.Sif;

/// <summary>A SIF file whose bytes are not a valid image; the message names the file and the defect.</summary>
public sealed class SifFormatException : BurrowException
{
    internal SifFormatException(string message, string? hint = null, Exception? inner = null)
        : base(message, hint ?? "the file is damaged or not a SIF image; re-create or re-download it", ExitCodes.Failure, inner)
    {
    }
}
