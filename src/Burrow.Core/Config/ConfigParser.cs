using Burrow.Core.Diagnostics;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace Burrow.Core.Config;

/// <summary>
/// Reads burrow.conf's text into a <see cref="BurrowConfig"/>. Tomlyn parses the TOML into its syntax tree (its
/// reflection-based model binding is not NativeAOT-safe, and the tree keeps the line of every key); the keys are then
/// mapped by hand. Every mistake is an error naming the file, the line and the key: a configuration that says
/// something Burrow does not understand is never half-applied.
/// </summary>
public static class ConfigParser
{
    /// <summary>A configuration is a few kilobytes; anything much larger is not one.</summary>
    public const int MaxBytes = 1 << 20;

    public static BurrowConfig Parse(string text, string file, BurrowConfig defaults)
    {
        DocumentSyntax document = SyntaxParser.Parse(text, file, validate: true);
        if (document.HasErrors)
        {
            DiagnosticMessage first = document.Diagnostics.First(d => d.Kind == DiagnosticMessageKind.Error);
            throw Error(file, first.Span.Start.Line + 1, $"not valid TOML: {first.Message}", "fix the TOML at that line (key = value, strings in double quotes)");
        }
        foreach (TableSyntaxBase table in document.Tables)
        {
            throw Error(file, table.Span.Start.Line + 1, $"unknown table [{table.Name}]: burrow.conf has only top-level keys",
                "write each key at the top level, as the shipped burrow.conf does");
        }

        BurrowConfig config = defaults with { File = file };
        var origins = new Dictionary<string, ConfigOrigin>(StringComparer.Ordinal);
        foreach (KeyValueSyntax pair in document.KeyValues)
        {
            int line = pair.Span.Start.Line + 1;
            string name = KeyName(pair.Key);
            if (!ConfigKeys.IsKnown(name))
            {
                string? near = ConfigKeys.Nearest(name);
                throw Error(file, line, $"unknown key '{name}'",
                    (near is not null ? $"did you mean '{near}'? " : "") + "every key is listed, with its default, in the burrow.conf that Burrow ships");
            }
            if (pair.Value is null)
            {
                throw Error(file, line, $"{name}: no value", $"write it as the default is written: {name} = {ConfigKeys.Render(defaults, name)}");
            }
            try
            {
                config = ConfigKeys.Apply(config, name, Convert(pair.Value));
            }
            catch (ConfigValueException e)
            {
                throw Error(file, line, $"{name}: {e.Message}",
                    $"write it as the default is written: {name} = {ConfigKeys.Render(defaults, name)} (the shipped burrow.conf documents every key)");
            }
            origins[name] = new ConfigOrigin(file, line);
        }
        return config with { Origins = origins };
    }

    private static string KeyName(KeySyntax? key)
    {
        string head = key?.Key switch
        {
            BareKeySyntax bare => bare.Key?.Text ?? "",
            StringValueSyntax quoted => quoted.Value ?? "",
            _ => "",
        };
        if (key is null || key.DotKeys.ChildrenCount == 0)
        {
            return head;
        }
        // A dotted key (a.b = 1) is a table in disguise: name it whole so that the error shows what was written.
        var parts = new List<string> { head };
        foreach (DottedKeyItemSyntax dotted in key.DotKeys)
        {
            parts.Add(dotted.Key switch { BareKeySyntax b => b.Key?.Text ?? "", StringValueSyntax s => s.Value ?? "", _ => "" });
        }
        return string.Join('.', parts);
    }

    private static ConfigValue Convert(ValueSyntax value)
    {
        int line = value.Span.Start.Line + 1;
        return value switch
        {
            StringValueSyntax s => new StringConfigValue(s.Value ?? "", line),
            BooleanValueSyntax b => new BoolConfigValue(b.Value, line),
            IntegerValueSyntax i => new IntegerConfigValue(i.Value, line),
            ArraySyntax a => new ArrayConfigValue(a.Items.Select(item => Convert(item.Value!)).ToArray(), line),
            FloatValueSyntax => new OtherConfigValue("a float", line),
            DateTimeValueSyntax => new OtherConfigValue("a date", line),
            InlineTableSyntax => new OtherConfigValue("an inline table", line),
            _ => new OtherConfigValue("an unknown value", line),
        };
    }

    private static BurrowException Error(string file, int line, string message, string? hint = null) =>
        new($"{file} line {line}: {message}", hint);
}
