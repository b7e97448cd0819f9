using Burrow.Core.Diagnostics;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Burrow.Core.Config;

/// <summary>
/// Reads the one part of an execution control list (Apptainer's <c>ecl.toml</c>) Burrow acts on: the top-level
/// <c>activated</c> switch. The <c>[[execgroup]]</c> tables that say which signers may run are not read, because
/// Burrow cannot verify SIF signatures yet; an activated list therefore refuses every SIF image (fail closed).
/// </summary>
public static class EclReader
{
    /// <summary>The line of <c>activated = true</c>, or 0 when the list is not activated.</summary>
    public static int ActivatedLine(string text, string file)
    {
        DocumentSyntax document = SyntaxParser.Parse(text, file, validate: true);
        if (document.HasErrors)
        {
            DiagnosticMessage first = document.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
            throw new BurrowException($"{file} line {first.Span.Start.Line + 1}: not valid TOML: {first.Message}",
                "fix the TOML at that line (key = value, strings in double quotes)");
        }
        foreach (KeyValueSyntax pair in document.KeyValues)
        {
            if (pair.Key?.Key is BareKeySyntax { Key.Text: "activated" } && pair.Key.DotKeys.ChildrenCount == 0)
            {
                int line = pair.Span.Start.Line + 1;
                return pair.Value is BooleanValueSyntax b
                    ? b.Value ? line : 0
                    : throw new BurrowException($"{file} line {line}: activated: expected true or false", "write activated = true or activated = false");
            }
        }
        return 0;
    }
}
