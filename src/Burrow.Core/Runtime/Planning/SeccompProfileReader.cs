using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;

namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// Reads an OCI runtime-spec / Docker seccomp profile (<c>--security seccomp:FILE</c>) into a
/// <see cref="SeccompProfilePlan"/>: <c>defaultAction</c>, <c>defaultErrnoRet</c>, <c>architectures</c>, <c>archMap</c>, and
/// <c>syscalls</c> entries with <c>names</c> (or Docker's old <c>name</c>), <c>action</c>, <c>errnoRet</c>, <c>args</c>, and Docker's
/// <c>includes</c>/<c>excludes</c> (<c>caps</c>, <c>arches</c>, <c>minKernel</c>), judged here against the payload's capabilities,
/// this machine's architecture and kernel. Pure: the text and the facts come in, a plan or an error naming the file
/// and the entry comes out. System call names are resolved by libseccomp when the stage compiles the filter; names it
/// does not know on this machine are skipped, as runc does (profiles list calls of every kernel and architecture).
/// </summary>
public static class SeccompProfileReader
{
    public const string Option = "--security seccomp:";

    /// <summary>A profile larger than this is surely not one (Docker's default is about 20 KiB).</summary>
    public const int MaxBytes = 4 << 20;

    /// <summary>What SCMP_ACT_ERRNO returns when the profile does not say (runc's choice).</summary>
    private const int EPERM = 1;

    public static SeccompProfilePlan Read(string file, string json, ulong boundingCapabilities, Version kernel)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            string where = e.LineNumber is { } line ? $" at line {line + 1}" : "";
            throw Bad(file, $"it is not valid JSON{where}", "an OCI seccomp profile is a JSON object such as {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [...]}");
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad(file, "it is not a JSON object", null);
            }
            if (OptionalString(root, "listenerPath", file) is { Length: > 0 })
            {
                throw Bad(file, "listenerPath: seccomp notification agents are not supported", "remove listenerPath and SCMP_ACT_NOTIFY rules");
            }
            int defaultErrno = root.TryGetProperty("defaultErrnoRet", out JsonElement de) ? Number(de, file, "defaultErrnoRet") : EPERM;
            SeccompAction defaultAction = Action(Required(root, "defaultAction", file), "defaultAction", defaultErrno, file);

            var arches = new List<string>();
            if (root.TryGetProperty("architectures", out JsonElement archList))
            {
                foreach ((JsonElement a, int i) in Items(archList, file, "architectures"))
                {
                    arches.Add(Architecture(a, file, $"architectures[{i}]"));
                }
            }
            if (root.TryGetProperty("archMap", out JsonElement archMap))
            {
                foreach ((JsonElement entry, int i) in Items(archMap, file, "archMap"))
                {
                    string at = $"archMap[{i}]";
                    string arch = Architecture(Required(entry, "architecture", file, at), file, at + ".architecture");
                    if (arch != NativeLibseccompArch)
                    {
                        continue;
                    }
                    arches.Add(arch);
                    if (entry.TryGetProperty("subArchitectures", out JsonElement subs))
                    {
                        foreach ((JsonElement s, int j) in Items(subs, file, at + ".subArchitectures"))
                        {
                            arches.Add(Architecture(s, file, $"{at}.subArchitectures[{j}]"));
                        }
                    }
                }
            }

            var rules = new List<SeccompProfileRule>();
            if (root.TryGetProperty("syscalls", out JsonElement syscalls))
            {
                foreach ((JsonElement entry, int i) in Items(syscalls, file, "syscalls"))
                {
                    rules.AddRange(Rules(entry, $"syscalls[{i}]", defaultAction, boundingCapabilities, kernel, file));
                }
            }
            return new SeccompProfilePlan { File = file, DefaultAction = defaultAction, Architectures = arches.Distinct().ToArray(), Rules = rules };
        }
    }

    /// <summary>libseccomp's name of the machine burrow runs on (seccomp_arch_resolve_name).</summary>
    public static string NativeLibseccompArch => RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "x86_64",
        System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
        System.Runtime.InteropServices.Architecture.X86 => "x86",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        var other => other.ToString().ToLowerInvariant(),
    };

    /// <summary>Go's name of this machine, which Docker profiles use in includes/excludes "arches".</summary>
    public static string NativeGoArch => RuntimeInformation.ProcessArchitecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
        System.Runtime.InteropServices.Architecture.X86 => "386",
        System.Runtime.InteropServices.Architecture.Arm => "arm",
        var other => other.ToString().ToLowerInvariant(),
    };

    private static IEnumerable<SeccompProfileRule> Rules(JsonElement entry, string at, SeccompAction defaultAction, ulong caps, Version kernel, string file)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw Bad(file, $"{at} is not an object", null);
        }
        var names = new List<string>();
        if (entry.TryGetProperty("names", out JsonElement list))
        {
            foreach ((JsonElement n, int j) in Items(list, file, at + ".names"))
            {
                names.Add(SyscallName(n, file, $"{at}.names[{j}]"));
            }
        }
        if (entry.TryGetProperty("name", out JsonElement single))
        {
            names.Add(SyscallName(single, file, at + ".name"));
        }
        if (names.Count == 0)
        {
            throw Bad(file, $"{at} names no system call", "give \"names\": [\"mkdir\", …]");
        }
        int errno = entry.TryGetProperty("errnoRet", out JsonElement er) ? Number(er, file, at + ".errnoRet") : EPERM;
        SeccompAction action = Action(Required(entry, "action", file, at), at + ".action", errno, file);
        var args = new List<SeccompArgument>();
        if (entry.TryGetProperty("args", out JsonElement argList) && argList.ValueKind != JsonValueKind.Null)
        {
            foreach ((JsonElement a, int j) in Items(argList, file, at + ".args"))
            {
                args.Add(Argument(a, file, $"{at}.args[{j}]"));
            }
        }
        bool applies = Matches(entry, "includes", caps, kernel, file, at, whenEmpty: true, all: true)
            && !Matches(entry, "excludes", caps, kernel, file, at, whenEmpty: false, all: false);
        // A rule that says what the default says changes nothing (and libseccomp refuses it).
        if (!applies || action == defaultAction)
        {
            yield break;
        }
        // As runc: several conditions on one argument are alternatives, each a rule of its own (libseccomp allows one per argument).
        if (args.GroupBy(a => a.Index).Any(g => g.Count() > 1))
        {
            foreach (SeccompArgument a in args)
            {
                yield return new SeccompProfileRule { Names = names, Action = action, Arguments = [a], Entry = at };
            }
            yield break;
        }
        yield return new SeccompProfileRule { Names = names, Action = action, Arguments = args, Entry = at };
    }

    /// <summary>Docker's includes (every condition must hold) and excludes (any condition excludes).</summary>
    private static bool Matches(JsonElement entry, string property, ulong caps, Version kernel, string file, string at, bool whenEmpty, bool all)
    {
        if (!entry.TryGetProperty(property, out JsonElement filter) || filter.ValueKind == JsonValueKind.Null)
        {
            return whenEmpty;
        }
        if (filter.ValueKind != JsonValueKind.Object)
        {
            throw Bad(file, $"{at}.{property} is not an object", null);
        }
        var results = new List<bool>();
        if (filter.TryGetProperty("caps", out JsonElement capList))
        {
            foreach ((JsonElement c, int j) in Items(capList, file, $"{at}.{property}.caps"))
            {
                string name = c.ValueKind == JsonValueKind.String ? c.GetString()! : throw Bad(file, $"{at}.{property}.caps[{j}] is not a string", null);
                int number = Capabilities.NumberOf(name);
                results.Add(number >= 0 && (caps & (1UL << number)) != 0);
            }
        }
        if (filter.TryGetProperty("arches", out JsonElement archList))
        {
            bool any = false;
            foreach ((JsonElement a, int j) in Items(archList, file, $"{at}.{property}.arches"))
            {
                string name = a.ValueKind == JsonValueKind.String ? a.GetString()! : throw Bad(file, $"{at}.{property}.arches[{j}] is not a string", null);
                any |= name == NativeGoArch || name == NativeLibseccompArch;
            }
            results.Add(any);
        }
        if (filter.TryGetProperty("minKernel", out JsonElement mk) && mk.ValueKind == JsonValueKind.String && mk.GetString() is { Length: > 0 } min)
        {
            if (!Version.TryParse(min.Contains('.') ? min : min + ".0", out Version? wanted))
            {
                throw Bad(file, $"{at}.{property}.minKernel '{min}' is not a kernel version", "write it as 4.8");
            }
            results.Add(kernel >= wanted);
        }
        if (results.Count == 0)
        {
            return whenEmpty;
        }
        return all ? results.All(r => r) : results.Any(r => r);
    }

    private static SeccompArgument Argument(JsonElement a, string file, string at)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            throw Bad(file, $"{at} is not an object", "an argument is {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}");
        }
        int index = Number(Required(a, "index", file, at), file, at + ".index");
        if (index is < 0 or > 5)
        {
            throw Bad(file, $"{at}.index {index} is out of range", "a system call has six arguments, 0 to 5");
        }
        ulong value = a.TryGetProperty("value", out JsonElement v) ? Unsigned(v, file, at + ".value") : 0;
        ulong valueTwo = a.TryGetProperty("valueTwo", out JsonElement v2) ? Unsigned(v2, file, at + ".valueTwo") : 0;
        string op = String(Required(a, "op", file, at), file, at + ".op");
        SeccompComparison comparison = op switch
        {
            "SCMP_CMP_NE" => SeccompComparison.NotEqual,
            "SCMP_CMP_LT" => SeccompComparison.Less,
            "SCMP_CMP_LE" => SeccompComparison.LessOrEqual,
            "SCMP_CMP_EQ" => SeccompComparison.Equal,
            "SCMP_CMP_GE" => SeccompComparison.GreaterOrEqual,
            "SCMP_CMP_GT" => SeccompComparison.Greater,
            "SCMP_CMP_MASKED_EQ" => SeccompComparison.MaskedEqual,
            _ => throw Bad(file, $"{at}.op: unknown comparison '{op}'", "use SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE or _MASKED_EQ"),
        };
        return new SeccompArgument(index, value, valueTwo, comparison);
    }

    private static SeccompAction Action(JsonElement value, string at, int errno, string file)
    {
        string name = String(value, file, at);
        return name switch
        {
            "SCMP_ACT_KILL" or "SCMP_ACT_KILL_THREAD" => new SeccompAction(SeccompActionKind.KillThread),
            "SCMP_ACT_KILL_PROCESS" => new SeccompAction(SeccompActionKind.KillProcess),
            "SCMP_ACT_TRAP" => new SeccompAction(SeccompActionKind.Trap),
            "SCMP_ACT_ERRNO" => new SeccompAction(SeccompActionKind.Errno, errno),
            "SCMP_ACT_TRACE" => new SeccompAction(SeccompActionKind.Trace, errno),
            "SCMP_ACT_LOG" => new SeccompAction(SeccompActionKind.Log),
            "SCMP_ACT_ALLOW" => new SeccompAction(SeccompActionKind.Allow),
            "SCMP_ACT_NOTIFY" => throw Bad(file, $"{at}: SCMP_ACT_NOTIFY needs a seccomp agent, which Burrow does not run", "use SCMP_ACT_ERRNO or SCMP_ACT_KILL"),
            _ => throw Bad(file, $"{at}: unknown action '{name}'",
                "use SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_TRACE or SCMP_ACT_LOG"),
        };
    }

    /// <summary>"SCMP_ARCH_X86_64" → libseccomp's "x86_64".</summary>
    private static string Architecture(JsonElement value, string file, string at)
    {
        string name = String(value, file, at);
        if (!name.StartsWith("SCMP_ARCH_", StringComparison.Ordinal) || name.Length == "SCMP_ARCH_".Length)
        {
            throw Bad(file, $"{at}: '{name}' is not an architecture", "write it as SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, …");
        }
        return name["SCMP_ARCH_".Length..].ToLowerInvariant();
    }

    private static string SyscallName(JsonElement value, string file, string at)
    {
        string name = String(value, file, at);
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_'))
        {
            throw Bad(file, $"{at}: '{name}' is not a system call name", "names are lower case, as in syscalls(2): mkdir, openat, …");
        }
        return name;
    }

    private static JsonElement Required(JsonElement o, string property, string file, string? at = null)
    {
        if (o.ValueKind != JsonValueKind.Object || !o.TryGetProperty(property, out JsonElement v))
        {
            throw Bad(file, $"{(at is null ? "" : at + ": ")}{property} is missing", null);
        }
        return v;
    }

    private static string String(JsonElement value, string file, string at) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Bad(file, $"{at} is not a string", null);

    private static string? OptionalString(JsonElement o, string property, string file) =>
        o.TryGetProperty(property, out JsonElement p) && p.ValueKind != JsonValueKind.Null ? String(p, file, property) : null;

    private static int Number(JsonElement value, string file, string at) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n) && n >= 0
            ? n
            : throw Bad(file, $"{at} is not a number from 0 up", null);

    private static ulong Unsigned(JsonElement value, string file, string at) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out ulong n)
            ? n
            : throw Bad(file, $"{at} is not a number from 0 to 18446744073709551615", null);

    private static IEnumerable<(JsonElement Item, int Index)> Items(JsonElement array, string file, string at)
    {
        if (array.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw Bad(file, $"{at} is not a list", null);
        }
        return array.EnumerateArray().Select((item, i) => (item, i)).ToArray();
    }

    private static BurrowException Bad(string file, string problem, string? hint) =>
        new($"{Option}{file}: {problem}", hint);
}
