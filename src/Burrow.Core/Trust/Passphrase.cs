using System.Text;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Trust;

/// <summary>
/// Where a passphrase comes from, in order: <c>--passphrase-file F</c> (its first line), <c>BURROW_PASSPHRASE</c>,
/// or a prompt on the terminal that does not echo. It is never logged, never put in a message, and never read from
/// a pipe on stdin (which would take the payload's input).
/// </summary>
public sealed class Passphrase(string? file)
{
    public const string EnvironmentVariable = "BURROW_PASSPHRASE";

    /// <summary>A passphrase file larger than this is not one.</summary>
    private const int MaxFileLength = 64 << 10;

    /// <summary>Reads the passphrase; with <paramref name="confirm"/> a prompt asks twice (for a new key).</summary>
    public string Read(string purpose, bool confirm = false)
    {
        if (file is not null)
        {
            return FromFile(file);
        }
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { } env)
        {
            return env;
        }
        if (Console.IsInputRedirected || Console.IsErrorRedirected)
        {
            throw new BurrowException($"a passphrase is needed to {purpose}, and there is no terminal to ask for it",
                $"set {EnvironmentVariable}, or give --passphrase-file FILE");
        }
        string first = Prompt("Enter a passphrase : ");
        if (confirm)
        {
            string again = Prompt("Retype your passphrase : ");
            if (again != first)
            {
                throw new BurrowException("the passphrases do not match", "run the command again");
            }
        }
        return first;
    }

    private static string FromFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > MaxFileLength)
            {
                throw new BurrowException($"cannot read the passphrase file {path}: it is {info.Length} bytes, too large for a passphrase");
            }
            string text = File.ReadAllText(path, Encoding.UTF8);
            int end = text.IndexOfAny(['\n', '\r']);
            return end >= 0 ? text[..end] : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"cannot read the passphrase file {path}: {ErrorText.Of(e)}");
        }
    }

    /// <summary>Reads a line from the terminal without echoing it (Console.ReadKey with intercept puts the terminal in raw mode).</summary>
    private static string Prompt(string text)
    {
        Console.Error.Write(text);
        var sb = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter)
            {
                break;
            }
            if (k.Key == ConsoleKey.Backspace)
            {
                if (sb.Length > 0)
                {
                    sb.Length--;
                }
                continue;
            }
            if ((k.Modifiers & ConsoleModifiers.Control) != 0 && k.Key is ConsoleKey.C or ConsoleKey.D)
            {
                Console.Error.WriteLine();
                throw new BurrowException("no passphrase given");
            }
            if (k.KeyChar != '\0')
            {
                sb.Append(k.KeyChar);
            }
        }
        Console.Error.WriteLine();
        return sb.ToString();
    }
}
