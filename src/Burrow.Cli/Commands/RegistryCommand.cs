using System.CommandLine;
using System.Text;
using Burrow.Core.Diagnostics;
using Burrow.Core.Oci;
using Burrow.Core.Oci.Registry;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow registry login|logout REGISTRY</c>: credentials for OCI registries, kept mode 0600.</summary>
public static class RegistryCommand
{
    public static Command Create()
    {
        var command = new Command("registry", "Manage OCI registry logins");
        command.Subcommands.Add(Login());
        command.Subcommands.Add(Logout());
        return command;
    }

    private static Command Login()
    {
        var registry = new Argument<string>("REGISTRY") { Description = "Registry host[:port], e.g. quay.io or docker://127.0.0.1:5000" };
        var user = new Option<string?>("--username", "-u") { Description = "User name (asked for when not given)" };
        var password = new Option<string?>("--password", "-p") { Description = "Password (visible to other users in the process list: prefer --password-stdin)" };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input" };
        var insecure = new Option<bool>("--insecure") { Description = "Allow plain HTTP to the registry" };
        var command = new Command("login", "Log in to an OCI registry; the credentials are checked, then stored in ~/.config/burrow/auth.json (mode 0600)");
        command.Arguments.Add(registry);
        command.Options.Add(user);
        command.Options.Add(password);
        command.Options.Add(passwordStdin);
        command.Options.Add(insecure);
        command.SetAction(async (result, ct) =>
        {
            GlobalOptions.Apply(result);
            string host = Host(result.GetValue(registry)!);
            RegistryOptions options = RegistryOptions.FromEnvironment(result.GetValue(insecure)); // a bad setting fails before any prompt
            string? name = result.GetValue(user);
            string? secret = result.GetValue(password);
            if (result.GetValue(passwordStdin))
            {
                secret = ReadCapped(Console.In, 1 << 16).TrimEnd('\r', '\n');
            }
            if (name is null)
            {
                Console.Error.Write("Username: ");
                name = Console.In.ReadLine()?.Trim();
            }
            if (secret is null)
            {
                secret = ReadHidden("Password: ");
            }
            if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(secret))
            {
                throw new BurrowException("registry login: a user name and a password are needed", "give --username and --password-stdin");
            }
            var credentials = new RegistryCredentials(name, secret);
            var reference = new ImageReference(host, "library/burrow-login-check", "latest", null);
            using (var client = new RegistryClient(reference, options, null, credentials))
            using (CancellationTokenSource cancel = Interruption.Linked(ct))
            {
                await client.CheckLoginAsync(cancel.Token);
            }
            new CredentialStore().Save(host, credentials);
            Log.Info($"Login succeeded; credentials for {host} stored in {CredentialStore.OwnFile}");
            return 0;
        });
        return command;
    }

    private static Command Logout()
    {
        var registry = new Argument<string>("REGISTRY") { Description = "Registry host[:port]" };
        var command = new Command("logout", "Remove the stored login for an OCI registry");
        command.Arguments.Add(registry);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string host = Host(result.GetValue(registry)!);
            if (!new CredentialStore().Remove(host))
            {
                throw new BurrowException($"registry logout: not logged in to {host}", $"stored logins are in {CredentialStore.OwnFile}");
            }
            Log.Info($"Removed the login for {host}");
            return 0;
        });
        return command;
    }

    private static string Host(string text)
    {
        string t = text.StartsWith("docker://", StringComparison.Ordinal) ? text["docker://".Length..] : text;
        string host = CredentialStore.NormaliseKey(t);
        if (host.Length == 0)
        {
            throw new BurrowException($"registry \"{text}\" names no host", "give host[:port], e.g. quay.io", ExitCodes.Usage);
        }
        if (!ImageReference.IsValidHost(host))
        {
            throw new BurrowException($"registry \"{text}\" is not a host name with an optional port (1 to 65535)", "give host[:port], e.g. quay.io or 127.0.0.1:5000", ExitCodes.Usage);
        }
        return host;
    }

    /// <summary>A password from standard input, refused when it does not end within <paramref name="limit"/> characters (/dev/zero).</summary>
    private static string ReadCapped(TextReader input, int limit)
    {
        char[] buffer = new char[limit + 1];
        int n = 0, r;
        while (n <= limit && (r = input.Read(buffer, n, buffer.Length - n)) > 0)
        {
            n += r;
        }
        return n > limit
            ? throw new BurrowException($"registry login: the password on standard input is longer than {limit} characters", "give the password alone on standard input", ExitCodes.Usage)
            : new string(buffer, 0, n);
    }

    private static string ReadHidden(string prompt)
    {
        Console.Error.Write(prompt);
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine() ?? "";
        }
        var sb = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter)
            {
                Console.Error.WriteLine();
                return sb.ToString();
            }
            if (k.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                {
                    sb.Length--;
                }
                continue;
            }
            sb.Append(k.KeyChar);
        }
    }
}
