namespace Burrow.Core.Oci.Registry;

/// <summary>
/// One challenge of a <c>WWW-Authenticate</c> header (RFC 7235): a scheme (Basic, Bearer) and its parameters
/// (realm, service, scope, error). A header may carry several challenges separated by commas.
/// </summary>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? Realm => Parameters.GetValueOrDefault("realm");
    public string? Service => Parameters.GetValueOrDefault("service");
    public string? Scope => Parameters.GetValueOrDefault("scope");

    public bool IsBearer => Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase);
    public bool IsBasic => Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase);

    public static IReadOnlyList<AuthChallenge> Parse(string header)
    {
        var result = new List<AuthChallenge>();
        int i = 0;
        string? scheme = null;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (i < header.Length)
        {
            SkipSpacesAndCommas(header, ref i);
            int start = i;
            while (i < header.Length && IsTokenChar(header[i]))
            {
                i++;
            }
            if (i == start)
            {
                i++; // Not a token: skip the junk character rather than loop forever.
                continue;
            }
            string token = header[start..i];
            int j = i;
            while (j < header.Length && header[j] == ' ')
            {
                j++;
            }
            if (j < header.Length && header[j] == '=' && scheme is not null)
            {
                i = j + 1;
                while (i < header.Length && header[i] == ' ')
                {
                    i++;
                }
                parameters[token] = ReadValue(header, ref i);
                continue;
            }
            if (scheme is not null)
            {
                result.Add(new AuthChallenge(scheme, parameters));
                parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            }
            scheme = token;
        }
        if (scheme is not null)
        {
            result.Add(new AuthChallenge(scheme, parameters));
        }
        return result;
    }

    private static string ReadValue(string s, ref int i)
    {
        if (i < s.Length && s[i] == '"')
        {
            i++;
            var sb = new System.Text.StringBuilder();
            while (i < s.Length && s[i] != '"')
            {
                if (s[i] == '\\' && i + 1 < s.Length)
                {
                    i++;
                }
                sb.Append(s[i]);
                i++;
            }
            i++; // closing quote
            return sb.ToString();
        }
        int start = i;
        while (i < s.Length && s[i] != ',')
        {
            i++;
        }
        return s[start..i].Trim();
    }

    private static void SkipSpacesAndCommas(string s, ref int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == ',' || s[i] == '\t'))
        {
            i++;
        }
    }

    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~/".Contains(c);
}
