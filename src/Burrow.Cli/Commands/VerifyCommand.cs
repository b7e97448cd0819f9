using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Dsse;
using Burrow.Core.Trust.Pgp;

namespace Burrow.Cli.Commands;

/// <summary>
/// <c>burrow verify IMAGE.sif</c>: Apptainer's verify. Every signature is checked cryptographically against your
/// keyring and the global one (or the PEM public key given with <c>--key</c>), and every object must be in a signed
/// group. The output is Apptainer's: signer and fingerprint per signature, the table of objects it verified, and
/// with <c>--json</c> its JSON document.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var image = new Argument<string>("image") { Description = "The SIF image to verify" };
        var key = new Option<string>("--key") { Description = "Verify DSSE signatures with this PEM public key instead of PGP keys [env BURROW_VERIFY_KEY]" };
        var local = new Option<bool>("--local", "-l") { Description = "Only use keys in the keyrings (Burrow has no keyserver: this is always so; kept for Apptainer's scripts)" };
        var json = new Option<bool>("--json", "-j") { Description = "Print the result as JSON (Apptainer's shape)" };
        var groupId = new Option<uint?>("--group-id", "-g") { Description = "Verify only the objects of this group" };
        var sifId = new Option<uint?>("--sif-id", "-i") { Description = "Verify only the object with this id" };
        var all = new Option<bool>("--all", "-a") { Description = "With --legacy-insecure: verify every object (one legacy task per object)" };
        var legacy = new Option<bool>("--legacy-insecure") { Description = "Verify legacy signatures, which cover object data only, not the header or descriptors (insecure)" };
        var command = new Command("verify", "Verify digital signature(s) within an image") { image, key, local, json, groupId, sifId, all, legacy };
        command.SetAction(result => KeyCommand.Run(result, () =>
        {
            string path = result.GetValue(image)!;
            string? pemPath = result.GetValue(key) ?? (Environment.GetEnvironmentVariable("BURROW_VERIFY_KEY") is { Length: > 0 } env ? env : null);
            TrustPaths paths = TrustPaths.ForProcess();
            VerifyKeys keys;
            PgpKeyring? localRing = null;
            if (pemPath is not null)
            {
                Log.Info($"Verifying image with key material from '{pemPath}'");
                keys = new VerifyKeys(null, [LoadPem(pemPath)]);
            }
            else
            {
                Log.Info("Verifying image with PGP key material");
                IReadOnlyList<NamedKeyring> rings = KeyStore.ForVerifying(paths);
                localRing = rings.First(r => r.Label == "LOCAL").Keyring;
                keys = new VerifyKeys(new PgpClearSignVerifier(rings), []);
            }
            bool isLegacy = result.GetValue(legacy);
            using SifImage sif = OpenImage(path);
            var selection = new VerifySelection
            {
                GroupId = result.GetValue(groupId),
                ObjectId = result.GetValue(sifId),
                Legacy = isLegacy,
                LegacyAll = isLegacy && result.GetValue(all),
            };
            if (isLegacy && !selection.LegacyAll && selection.GroupId is null && selection.ObjectId is null)
            {
                // Apptainer: legacy signatures without a selection means the primary system partition.
                selection = selection with
                {
                    ObjectId = (sif.PrimarySystemPartition ?? throw new BurrowException("Failed to verify container: integrity: object not found",
                        "the image has no primary system partition: choose what to verify with --sif-id or --group-id")).Id,
                };
            }
            bool asJson = result.GetValue(json);
            SifVerification v = SifVerifier.Verify(sif, selection, keys, asJson ? null : r =>
            {
                Console.Out.Write(Text(r, localRing));
                return false;
            });
            if (asJson)
            {
                Console.Out.Write(Json(v, sif, localRing));
            }
            if (v.Error is { } e)
            {
                throw new BurrowException($"Failed to verify container: integrity: {e.Message}", Hint(e, sif));
            }
            Log.Info($"Verified signature(s) from image '{path}'");
            return 0;
        }));
        return command;
    }

    private static SifImage OpenImage(string path)
    {
        if (Directory.Exists(path))
        {
            throw new BurrowException($"Failed to verify container: {path} is a directory: only SIF images carry signatures");
        }
        return SifImage.Open(path);
    }

    private static IDsseVerifier LoadPem(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.Exists && info.Length > PemKeys.MaxLength)
            {
                throw new BurrowException($"Failed to load key material: {path} is {info.Length} bytes, too large for a key");
            }
            return PemKeys.LoadPublic(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new BurrowException($"Failed to load key material: cannot read {path}: {ErrorText.Of(e)}");
        }
        catch (Exception e) when (e is CryptographicException or FormatException or System.Formats.Asn1.AsnContentException or ArgumentException)
        {
            throw new BurrowException($"Failed to load key material: {path}: {ErrorText.Of(e, "it is not a PEM key")}", "give a PEM public key (PKIX \"PUBLIC KEY\" or \"RSA PUBLIC KEY\")");
        }
    }

    /// <summary>What the failure means for this image, in words (the first line keeps Apptainer's).</summary>
    private static string? Hint(SifVerifyException e, SifImage sif)
    {
        string Named(uint id) => sif.TryGetById(id) is { } d && Printable(d.Name) is var name
            ? $"object {id} ({SifNames.Of(d.Type)}{(name.Length > 0 ? " " + name : "")})"
            : $"object {id}";
        return e.Failure switch
        {
            SifVerifyFailure.SignatureNotFound when !sif.Descriptors.Any(d => d.Type == SifDataType.Signature) =>
                "no signatures found: the image is not signed (sign it with: burrow sign)",
            SifVerifyFailure.SignatureNotFound => "the signatures in the image do not cover this; list them with: burrow sif list " + sif.Name,
            SifVerifyFailure.Integrity when e.Message.StartsWith("header", StringComparison.Ordinal) =>
                "the image's header (launch script, magic, version or id) changed after it was signed: do not run it",
            SifVerifyFailure.Integrity when e.ObjectId != 0 => $"{Named(e.ObjectId)} changed after it was signed: do not run it; get the image again from its source",
            SifVerifyFailure.ObjectSet when e.Message.EndsWith("object not signed", StringComparison.Ordinal) =>
                $"{Named(e.ObjectId)} is not covered by the signature: it was added or changed group after signing",
            SifVerifyFailure.SignatureNotValid when e.Message.Contains("unknown entity", StringComparison.Ordinal) =>
                "import the signer's public key (burrow key import FILE) if you trust it",
            SifVerifyFailure.KeyMaterial when e.Message.Contains("DSSE", StringComparison.Ordinal) => "give the signer's PEM public key with --key",
            SifVerifyFailure.KeyMaterial when e.Message.Contains("PGP", StringComparison.Ordinal) => "drop --key to verify PGP signatures with your keyrings",
            SifVerifyFailure.Selection when e.Message.Contains("group", StringComparison.Ordinal) =>
                "every object must be in a signed group; list them with: burrow sif list " + sif.Name,
            _ => null,
        };
    }

    /// <summary>An object's name as the image has it, up to its first NUL, escaped for the terminal: it may be damaged or hostile.</summary>
    private static string Printable(string name) => TerminalText.Escape(name.IndexOf('\0', StringComparison.Ordinal) is var nul and >= 0 ? name[..nul] : name);

    /// <summary>Apptainer's outputVerify: the signer (PGP) or key (DSSE), then the table of verified objects, then the error.</summary>
    private static string Text(SignatureResult r, PgpKeyring? local)
    {
        var sb = new StringBuilder();
        if (r.Pgp is { } p)
        {
            string prefix = p.KeyringLabel == "GLOBAL" ? "[GLOBAL]" : local?.Find(p.Signer.Fingerprint) is not null ? "[LOCAL]" : "[REMOTE]";
            sb.Append(prefix.PadRight(18)).Append(" Signing entity: ").Append(TerminalText.Escape(p.Signer.PrimaryUserId)).Append('\n');
            sb.Append(prefix.PadRight(18)).Append(" Fingerprint: ").Append(p.Signer.FingerprintHex).Append('\n');
        }
        foreach (IDsseVerifier k in r.DsseKeys)
        {
            sb.Append("[KEY]".PadRight(18)).Append(" Public key: ").Append(k.Description).Append(' ').Append(k.KeyId).Append('\n');
        }
        if (r.Verified.Count > 0)
        {
            sb.Append("Objects verified:\n");
            sb.Append("ID".PadRight(4)).Append('|').Append("GROUP".PadRight(8)).Append('|').Append("LINK".PadRight(8)).Append("|TYPE\n");
            sb.Append("------------------------------------------------\n");
            foreach (SifDescriptor d in r.Verified)
            {
                string group = d.GroupId == 0 ? "NONE" : d.GroupId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                string link = d.LinkedId == 0 ? "NONE" : d.LinkIsGroup ? $"{d.LinkedId} (G)" : d.LinkedId.ToString(System.Globalization.CultureInfo.InvariantCulture);
                sb.Append(d.Id.ToString(System.Globalization.CultureInfo.InvariantCulture).PadRight(4)).Append('|').Append(group.PadRight(8)).Append('|')
                    .Append(link.PadRight(8)).Append('|').Append(SifNames.Of(d.Type)).Append('\n');
            }
        }
        if (r.Error is { } e)
        {
            sb.Append("\nError encountered during signature verification: integrity: ").Append(e.Message).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Apptainer's keyList JSON: the signature count and one entry per verified (or failed) object and signer.</summary>
    private static string Json(SifVerification v, SifImage sif, PgpKeyring? local)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, KeyCommand.JsonOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("Signatures", v.Results.Count);
            w.WriteStartArray("SignerKeys");
            foreach (SignatureResult r in v.Results)
            {
                string name = r.Pgp?.Signer.PrimaryUserId ?? "unknown";
                string fp = r.Pgp is { } p ? Convert.ToHexStringLower(p.Signer.Fingerprint) : "";
                bool keyLocal = r.Pgp is { } q && local?.Find(q.Signer.Fingerprint) is not null;
                bool keyCheck = r.Pgp is not null;
                void Entry(SifDescriptor d, bool dataCheck)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("Signer");
                    w.WriteString("Partition", SifNames.Of(d.Type));
                    w.WriteString("Name", name);
                    w.WriteString("Fingerprint", fp);
                    w.WriteBoolean("KeyLocal", keyLocal);
                    w.WriteBoolean("KeyCheck", keyCheck);
                    w.WriteBoolean("DataCheck", dataCheck);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                foreach (SifDescriptor d in r.Verified)
                {
                    Entry(d, true);
                }
                if (r.Error is { Failure: SifVerifyFailure.Integrity, ObjectId: > 0 } e && sif.TryGetById(e.ObjectId) is { } bad && !e.Message.Contains("descriptor", StringComparison.Ordinal))
                {
                    Entry(bad, false);
                }
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }
}
