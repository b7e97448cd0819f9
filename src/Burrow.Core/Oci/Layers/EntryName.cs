namespace Burrow.Core.Oci.Layers;

/// <summary>
/// Turns a tar entry name into path components inside the image root, refusing anything that could name a
/// place outside it. Absolute names and <c>..</c> are refused rather than rewritten: a layer that contains them
/// was not made by an honest image builder, and silently "fixing" it hides the attack.
/// </summary>
internal static class EntryName
{
    public static bool TrySplit(string name, out List<string> components, out string? why)
    {
        components = [];
        why = null;
        if (name.Length == 0)
        {
            why = "the name is empty";
            return false;
        }
        if (name[0] == '/')
        {
            why = "the name is absolute";
            return false;
        }
        if (name.Contains('\0'))
        {
            why = "the name contains a NUL byte";
            return false;
        }
        foreach (string part in name.Split('/'))
        {
            if (part.Length == 0 || part == ".")
            {
                continue;
            }
            if (part == "..")
            {
                why = "the name contains \"..\"";
                return false;
            }
            components.Add(part);
        }
        return true;
    }
}
