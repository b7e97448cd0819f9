namespace Burrow.Core.Oci.Registry;

/// <summary>How to talk to registries: plain HTTP permission, the stall time-out, and the retry budget.</summary>
public sealed record RegistryOptions
{
    /// <summary>Allow plain HTTP to any registry (<c>--insecure</c>); loopback registries may always use it.</summary>
    public bool Insecure { get; init; }

    /// <summary>Registries given in <c>BURROW_INSECURE_REGISTRIES</c> (comma-separated host[:port]) that may use plain HTTP.</summary>
    public IReadOnlySet<string> InsecureRegistries { get; init; } = new HashSet<string>();

    /// <summary>How long a request may wait for a response or for the next bytes of one before it counts as stalled.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Attempts for a request that fails with 5xx, 429 or a dropped connection.</summary>
    public int Attempts { get; init; } = 5;

    /// <summary>First back-off delay; doubled after each failure.</summary>
    public TimeSpan Backoff { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Reads <c>BURROW_REGISTRY_TIMEOUT</c> (seconds) and <c>BURROW_INSECURE_REGISTRIES</c>.</summary>
    public static RegistryOptions FromEnvironment(bool insecure)
    {
        TimeSpan timeout = TimeSpan.FromSeconds(60);
        if (Environment.GetEnvironmentVariable("BURROW_REGISTRY_TIMEOUT") is { Length: > 0 } t)
        {
            // A value that is not a positive number of seconds is a mistake to say, not one to ignore.
            if (!double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds)
                || !double.IsFinite(seconds) || seconds <= 0 || seconds > 86400)
            {
                throw new Diagnostics.BurrowException($"BURROW_REGISTRY_TIMEOUT=\"{t}\" is not a number of seconds between 0 and 86400",
                    "set it to e.g. 60, or unset it for the default of 60 seconds", Diagnostics.ExitCodes.Usage);
            }
            timeout = TimeSpan.FromSeconds(seconds);
        }
        var hosts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string h in (Environment.GetEnvironmentVariable("BURROW_INSECURE_REGISTRIES") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            hosts.Add(h);
        }
        return new RegistryOptions { Insecure = insecure, Timeout = timeout, InsecureRegistries = hosts };
    }
}
