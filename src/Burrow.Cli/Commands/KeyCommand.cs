using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Pgp;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow key</c>: OpenPGP keys for signing and verifying images, Apptainer's <c>key</c> commands without the
/// keyserver ones. Keys live in <c>$XDG_DATA_HOME/burrow/keys</c> (mode 0700); <c>--global</c> works on the
/// administrator's public keyring beside the installation, which the execution control list uses.
/// </summary>
public static class KeyCommand
{
    public static Command Create()
    {
        var command = new Command("key", "Manage OpenPGP keys for signing and verifying images");
        command.Subcommands.Add(KeyNewpairCommand.Create());
        command.Subcommands.Add(KeyListCommand.Create());
        command.Subcommands.Add(KeyImportCommand.Create());
        command.Subcommands.Add(KeyExportCommand.Create());
        command.Subcommands.Add(KeyRemoveCommand.Create());
        return command;
    }

    internal static Option<bool> GlobalOption(string what) => new("--global", "-g")
    {
        Description = $"{what} the global public keyring of this installation (PREFIX/etc/burrow/global-pgp-public; changing it takes its owner)",
    };

    internal static Option<string> PassphraseFileOption() => new("--passphrase-file")
    {
        Description = "Read the passphrase from the first line of this file (else BURROW_PASSPHRASE, else a prompt that does not echo)",
    };

    /// <summary>Runs a trust command body: BurrowExceptions become the usual ERROR: lines and exit code.</summary>
    internal static int Run(ParseResult result, Func<int> body) => SifCommand.Run(result, body);

    /// <summary>Apptainer's listing of one entity (sypgp printEntity: a tabwriter with padding 2).</summary>
    internal static string Describe(int index, PgpEntity e)
    {
        var rows = new List<(string Index, string Name, string Value)>();
        string label = index.ToString(CultureInfo.InvariantCulture) + ")";
        IReadOnlyList<string> ids = e.UserIds.Count > 0 ? e.UserIds : [""];
        foreach (string id in ids)
        {
            rows.Add((rows.Count == 0 ? label : "", "User:", TerminalText.Escape(ApptainerUserId(id))));
        }
        rows.Add(("", "Creation time:", e.CreatedText));
        rows.Add(("", "Fingerprint:", e.FingerprintHex));
        rows.Add(("", "Length (in bits):", e.BitLength.ToString(CultureInfo.InvariantCulture)));
        int w0 = rows.Max(r => r.Index.Length) + 2, w1 = rows.Max(r => r.Name.Length) + 2;
        var sb = new StringBuilder();
        foreach ((string i, string n, string v) in rows)
        {
            sb.Append(i.PadRight(w0)).Append(n.PadRight(w1)).Append(v).Append('\n');
        }
        return sb.Append('\n').ToString();
    }

    /// <summary>go-crypto splits a user id into name, comment and email and Apptainer prints "%s (%s) &lt;%s&gt;", empty parts and all.</summary>
    internal static string ApptainerUserId(string id)
    {
        string name = id, comment = "", email = "";
        int lt = id.LastIndexOf('<');
        if (lt >= 0 && id.EndsWith('>'))
        {
            email = id[(lt + 1)..^1];
            name = id[..lt].TrimEnd();
        }
        int open = name.IndexOf('(');
        if (open >= 0 && name.EndsWith(')'))
        {
            comment = name[(open + 1)..^1];
            name = name[..open].TrimEnd();
        }
        return $"{name} ({comment}) <{email}>";
    }

    /// <summary>The entity to work on: the one with <paramref name="fingerprint"/>, the only one, or one the user picks at a terminal.</summary>
    internal static PgpEntity Choose(IReadOnlyList<PgpEntity> entities, string? fingerprint, string kind, string prompt)
    {
        if (fingerprint is not null)
        {
            return entities.FirstOrDefault(e => e.Matches(fingerprint))
                ?? throw new BurrowException($"no {kind} key with fingerprint {PgpEntity.Normalize(fingerprint)}", "list the keys with: burrow key list" + (kind == "secret" ? " --secret" : ""));
        }
        switch (entities.Count)
        {
            case 0:
                throw new BurrowException("keyring is empty", kind == "secret" ? "make a key with: burrow key newpair, or import one with: burrow key import FILE" : "import a key with: burrow key import FILE");
            case 1:
                return entities[0];
        }
        if (Console.IsInputRedirected)
        {
            throw new BurrowException($"there are {entities.Count} {kind} keys: choose one",
                "give --fingerprint FINGERPRINT (burrow key list" + (kind == "secret" ? " --secret" : "") + ")");
        }
        for (int i = 0; i < entities.Count; i++)
        {
            Console.Out.Write(Describe(i, entities[i]));
        }
        Console.Out.Write(prompt);
        Console.Out.Flush();
        string? line = Console.ReadLine();
        return int.TryParse(line?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 0 && n < entities.Count
            ? entities[n]
            : throw new BurrowException($"invalid choice \"{line?.Trim()}\": give a number from 0 to {entities.Count - 1}");
    }

    internal static JsonWriterOptions JsonOptions => new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

/// <summary><c>burrow key newpair</c>: a new RSA key pair, its secret half protected by a passphrase.</summary>
public static class KeyNewpairCommand
{
    public static Command Create()
    {
        var name = new Option<string>("--name", "-N") { Description = "Key owner name" };
        var email = new Option<string>("--email", "-E") { Description = "Key owner email" };
        var comment = new Option<string>("--comment", "-C") { Description = "Key comment" };
        var bits = new Option<int>("--bit-length", "-b") { Description = "RSA key length in bits (2048 to 16384)", DefaultValueFactory = _ => PgpKeyGenerator.DefaultBits };
        var passphraseFile = KeyCommand.PassphraseFileOption();
        var command = new Command("newpair", "Create a new key pair (RSA, 4096 bits by default) in your keyring") { name, email, comment, bits, passphraseFile };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            int length = result.GetValue(bits);
            if (length < PgpKeyGenerator.MinimumBits || length > PgpKeyGenerator.MaximumBits)
            {
                throw new BurrowException($"--bit-length {length} is not between {PgpKeyGenerator.MinimumBits} and {PgpKeyGenerator.MaximumBits}", null, ExitCodes.Usage);
            }
            string n = Ask(result.GetValue(name), "Enter your name (e.g., John Doe) : ", "--name");
            string e = Ask(result.GetValue(email), "Enter your email address (e.g., john.doe@example.com) : ", "--email");
            string c = result.GetValue(comment) ?? "";
            if (n.Trim().Length == 0)
            {
                throw new BurrowException("a key needs a name", "give --name NAME", ExitCodes.Usage);
            }
            string passphrase = new Passphrase(result.GetValue(passphraseFile)).Read("protect the new secret key", confirm: true);
            if (passphrase.Length == 0)
            {
                throw new BurrowException("the passphrase is empty: the secret key would be unprotected", "give a passphrase (BURROW_PASSPHRASE, --passphrase-file or the prompt)");
            }
            var store = new KeyStore(TrustPaths.ForProcess(), global: false);
            PgpKeyring secret = store.LoadSecret();
            PgpKeyring pub = store.LoadPublic();
            Console.Out.Write("Generating Entity and OpenPGP Key Pair... ");
            Console.Out.Flush();
            PgpEntity entity = PgpKeyGenerator.Generate(PgpKeyGenerator.UserId(n, e, c), length, passphrase);
            secret.Add(entity);
            pub.Add(entity);
            store.Save(secret);
            store.Save(pub);
            Console.Out.Write("done\n");
            Log.Info($"Key with fingerprint {entity.FingerprintHex} added to {store.SecretPath} and {store.PublicPath}");
            return 0;
        }));
        return command;
    }

    private static string Ask(string? given, string prompt, string option)
    {
        if (given is not null)
        {
            return given;
        }
        if (Console.IsInputRedirected)
        {
            throw new BurrowException($"{option} is needed", $"give {option}", ExitCodes.Usage);
        }
        Console.Out.Write(prompt);
        Console.Out.Flush();
        return Console.ReadLine() ?? "";
    }
}

/// <summary><c>burrow key list</c>: Apptainer's listing, or JSON with <c>--json</c>.</summary>
public static class KeyListCommand
{
    public static Command Create()
    {
        var secret = new Option<bool>("--secret") { Description = "List secret keys instead of public ones" };
        var global = KeyCommand.GlobalOption("List");
        var json = new Option<bool>("--json", "-j") { Description = "Print the keys as JSON" };
        var command = new Command("list", "List the keys in your keyring (or the global one)") { secret, global, json };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            var store = new KeyStore(TrustPaths.ForProcess(), result.GetValue(global));
            bool isSecret = result.GetValue(secret);
            PgpKeyring ring = isSecret ? store.LoadSecret() : store.LoadPublic();
            if (result.GetValue(json))
            {
                Console.Out.Write(Json(ring));
                return 0;
            }
            var sb = new StringBuilder();
            sb.Append(isSecret ? "Private" : "Public").Append(" key listing (").Append(ring.Path).Append("):\n\n");
            for (int i = 0; i < ring.Entities.Count; i++)
            {
                sb.Append(KeyCommand.Describe(i, ring.Entities[i]));
            }
            Console.Out.Write(sb.ToString());
            return 0;
        }));
        return command;
    }

    private static string Json(PgpKeyring ring)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, KeyCommand.JsonOptions))
        {
            w.WriteStartObject();
            w.WriteString("keyring", ring.Path);
            w.WriteString("type", ring.IsSecret ? "secret" : "public");
            w.WriteStartArray("keys");
            foreach (PgpEntity e in ring.Entities)
            {
                w.WriteStartObject();
                w.WriteString("fingerprint", e.FingerprintHex);
                w.WriteStartArray("userIds");
                foreach (string id in e.UserIds)
                {
                    w.WriteStringValue(id);
                }
                w.WriteEndArray();
                w.WriteString("created", e.CreatedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                w.WriteString("algorithm", e.Algorithm);
                w.WriteNumber("bits", e.BitLength);
                w.WriteBoolean("secret", e.HasSecret);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }
}

/// <summary><c>burrow key import FILE</c>: every key in an exported key file, secret halves to the secret keyring.</summary>
public static class KeyImportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A key file (armored or binary; public or secret keys)" };
        var global = KeyCommand.GlobalOption("Import into");
        var command = new Command("import", "Import keys from a file into your keyring (or the global one)") { file, global };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            string path = result.GetValue(file)!;
            byte[] data;
            try
            {
                var info = new FileInfo(path);
                if (info.Exists && info.Length > PgpKeyring.MaxFileSize)
                {
                    throw new BurrowException($"cannot import {path}: it is {info.Length} bytes, too large for a key file");
                }
                data = File.ReadAllBytes(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BurrowException($"cannot read {path}: {ErrorText.Of(e)}");
            }
            IReadOnlyList<PgpEntity> keys = PgpKeyring.ReadKeyFile(data, path);
            var store = new KeyStore(TrustPaths.ForProcess(), result.GetValue(global));
            if (store.IsGlobal && keys.Any(k => k.HasSecret))
            {
                throw new BurrowException($"{path} holds a secret key: the global keyring holds public keys only", "export the public key alone (burrow key export) and import that");
            }
            PgpKeyring pub = store.LoadPublic();
            PgpKeyring? secret = keys.Any(k => k.HasSecret) ? store.LoadSecret() : null;
            int added = 0;
            var lines = new List<string>();
            foreach (PgpEntity k in keys)
            {
                if (k.HasSecret)
                {
                    if (secret!.Add(k))
                    {
                        added++;
                        lines.Add($"Key with fingerprint {k.FingerprintHex} successfully added to the private keyring");
                    }
                    else
                    {
                        Log.Info($"the key with fingerprint {k.FingerprintHex} is already in the private keyring");
                    }
                }
                if (pub.Add(k))
                {
                    added++;
                    lines.Add($"Key with fingerprint {k.FingerprintHex} successfully added to the {(store.IsGlobal ? "global " : "")}public keyring");
                }
                else
                {
                    Log.Info($"the key with fingerprint {k.FingerprintHex} is already in the {(store.IsGlobal ? "global " : "")}public keyring");
                }
            }
            if (added == 0)
            {
                throw new BurrowException($"the key with fingerprint {keys[0].FingerprintHex} already belongs to the keyring", null, ExitCodes.Usage);
            }
            if (secret is not null)
            {
                store.Save(secret);
            }
            store.Save(pub);
            foreach (string line in lines)
            {
                Console.Out.WriteLine(line);
            }
            return 0;
        }));
        return command;
    }
}

/// <summary><c>burrow key export FILE</c>: one key, public or secret, armored or binary.</summary>
public static class KeyExportCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "Where to write the key (replaced whole; never through a symlink)" };
        var secret = new Option<bool>("--secret") { Description = "Export a secret key (as stored: still protected by its passphrase)" };
        var armor = new Option<bool>("--armor", "-a") { Description = "ASCII-armored format" };
        var fingerprint = new Option<string>("--fingerprint", "-f") { Description = "The key to export (else the only one, or a choice at the terminal)" };
        var global = KeyCommand.GlobalOption("Export from");
        var command = new Command("export", "Export a key from your keyring (or the global one) to a file") { file, secret, armor, fingerprint, global };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            var store = new KeyStore(TrustPaths.ForProcess(), result.GetValue(global));
            bool isSecret = result.GetValue(secret);
            PgpKeyring ring = isSecret ? store.LoadSecret() : store.LoadPublic();
            PgpEntity e = KeyCommand.Choose(ring.Entities, result.GetValue(fingerprint), isSecret ? "secret" : "public",
                $"Enter # of {(isSecret ? "private" : "public")} key to export : ");
            string path = result.GetValue(file)!;
            AtomicFile.Write(path, PgpKeyring.Export(e, isSecret, result.GetValue(armor)), isSecret ? AtomicFile.PrivateMode : AtomicFile.PublicMode, "key file");
            Console.Out.WriteLine($"{(isSecret ? "Private" : "Public")} key with fingerprint {e.FingerprintHex} correctly exported to file: {path}");
            return 0;
        }));
        return command;
    }
}

/// <summary><c>burrow key remove FINGERPRINT</c>: the public key by default, <c>--secret</c> or <c>--both</c> for the secret one.</summary>
public static class KeyRemoveCommand
{
    public static Command Create()
    {
        var fingerprint = new Argument<string>("fingerprint") { Description = "The key's fingerprint (40 hex digits, see burrow key list)" };
        var global = KeyCommand.GlobalOption("Remove from");
        var secret = new Option<bool>("--secret") { Description = "Remove the secret key only" };
        var both = new Option<bool>("--both") { Description = "Remove both the public and the secret key" };
        var command = new Command("remove", "Remove a key from your keyring (or the global one)") { fingerprint, global, secret, both };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            string fp = PgpEntity.Normalize(result.GetValue(fingerprint)!);
            if (fp.Length != 40 || !fp.All(char.IsAsciiHexDigit))
            {
                throw new BurrowException($"\"{result.GetValue(fingerprint)}\" is not a fingerprint", "give the 40 hex digits burrow key list shows", ExitCodes.Usage);
            }
            var store = new KeyStore(TrustPaths.ForProcess(), result.GetValue(global));
            bool removeSecret = result.GetValue(secret) || result.GetValue(both);
            bool removePublic = !result.GetValue(secret) || result.GetValue(both);
            bool any = false;
            if (removePublic)
            {
                PgpKeyring pub = store.LoadPublic();
                if (pub.Remove(fp))
                {
                    store.Save(pub);
                    Console.Out.WriteLine($"Key with fingerprint {fp} removed from the {(store.IsGlobal ? "global " : "")}public keyring");
                    any = true;
                }
                else if (!removeSecret)
                {
                    throw new BurrowException($"Unable to remove public key: no key matching given fingerprint found ({fp} in {pub.Path})");
                }
            }
            if (removeSecret)
            {
                PgpKeyring sec = store.LoadSecret();
                if (sec.Remove(fp))
                {
                    store.Save(sec);
                    Console.Out.WriteLine($"Key with fingerprint {fp} removed from the private keyring");
                    any = true;
                }
                else if (!any)
                {
                    throw new BurrowException($"Unable to remove {(removePublic ? "public nor private" : "private")} key: no key matching given fingerprint found ({fp})");
                }
            }
            return 0;
        }));
        return command;
    }
}
