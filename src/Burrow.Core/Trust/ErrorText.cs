using System.Text.RegularExpressions;
using Burrow.Core.Sif;

namespace Burrow.Core.Trust;

/// <summary>
/// Words for a failure's cause that a user can read: file errors in plain words (<see cref="SifIoText"/>), and instead
/// of a bare .NET resource key (all the NativeAOT build keeps of a framework message, "Format_BadBase64Char") the
/// caller's own description.
/// </summary>
public static partial class ErrorText
{
    public static string Of(Exception e, string whenUnreadable)
    {
        string text = SifIoText.Of(e);
        return ResourceKey().IsMatch(text) ? whenUnreadable : text;
    }

    public static string Of(Exception e) => Of(e, "an unexpected " + e.GetType().Name);

    [GeneratedRegex(@"^[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]+(,|$)")]
    private static partial Regex ResourceKey();
}
