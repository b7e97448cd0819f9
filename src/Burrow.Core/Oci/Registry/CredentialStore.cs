using System.Text;
using System.Text.Json;
using Burrow.Core.Diagnostics;

namespace Burrow.Core.Oci.Registry;

public sealed record RegistryCredentials(string User, string Password);

/// <summary>
/// Registry credentials: Burrow's own file (written by <c>burrow registry login</c>, mode 0600), then
/// containers' <c>$XDG_RUNTIME_DIR/containers/auth.json</c>, then <c>~/.docker/config.json</c>, so that logins
/// done with podman, skopeo or docker carry over. All three use the <c>{"auths":{host:{"auth":base64(user:pass)}}}</c> shape.
/// </summary>
public sealed class CredentialStore
{
    public static string OwnFile
    {
        get
        {
            string config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x
                : Path.Combine(Home(), ".config");
            return Path.Combine(config, "burrow", "auth.json");
        }
    }

    public IEnumerable<string> SearchPath()
    {
        yield return OwnFile;
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } run)
        {
            yield return Path.Combine(run, "containers", "auth.json");
        }
        yield return Path.Combine(Home(), ".docker", "config.json");
    }

    public RegistryCredentials? Find(string registry)
    {
        foreach (string file in SearchPath())
        {
            AuthFile? auth = Read(file);
            if (auth is null)
            {
                continue;
            }
            foreach ((string key, AuthEntry entry) in auth.Auths)
            {
                if (NormaliseKey(key) == registry && entry.Auth is { Length: > 0 } encoded && Decode(encoded) is { } creds)
                {
                    return creds;
                }
            }
        }
        return null;
    }

    public void Save(string registry, RegistryCredentials credentials)
    {
        AuthFile auth = Read(OwnFile) ?? new AuthFile();
        auth.Auths[registry] = new AuthEntry { Auth = Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials.User + ":" + credentials.Password)) };
        Write(auth);
    }

    /// <summary>Removes the login; returns false when there was none in Burrow's file.</summary>
    public bool Remove(string registry)
    {
        AuthFile? auth = Read(OwnFile);
        if (auth is null || !auth.Auths.Keys.Any(k => NormaliseKey(k) == registry))
        {
            return false;
        }
        foreach (string key in auth.Auths.Keys.Where(k => NormaliseKey(k) == registry).ToList())
        {
            auth.Auths.Remove(key);
        }
        Write(auth);
        return true;
    }

    /// <summary>Docker writes Hub logins as https://index.docker.io/v1/; others write bare hosts or URLs.</summary>
    public static string NormaliseKey(string key)
    {
        string k = key;
        foreach (string scheme in new[] { "https://", "http://" })
        {
            if (k.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            {
                k = k[scheme.Length..];
            }
        }
        int slash = k.IndexOf('/');
        if (slash >= 0)
        {
            k = k[..slash];
        }
        return k is "index.docker.io" or "registry-1.docker.io" ? ImageReference.DockerHub : k;
    }

    private static RegistryCredentials? Decode(string encoded)
    {
        try
        {
            string text = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            int colon = text.IndexOf(':');
            return colon > 0 ? new RegistryCredentials(text[..colon], text[(colon + 1)..]) : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>Credentials files larger than this are not credentials files.</summary>
    private const int MaxFileBytes = 1 << 20;

    private static AuthFile? Read(string file)
    {
        byte[] bytes;
        try
        {
            // A regular file only: a FIFO planted or left there must not hang a pull.
            using Microsoft.Win32.SafeHandles.SafeFileHandle fd = Linux.RegularFile.Open(file);
            bytes = Linux.FileDescriptors.ReadAll(fd, MaxFileBytes, file);
        }
        catch (Linux.LinuxException e) when (e.Errno is Linux.Errno.ENOENT or Linux.Errno.ENOTDIR)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            Log.Warning($"ignoring the credentials file {file}: {FailureText.Reason(e)}");
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(bytes, OciJsonContext.Default.AuthFile);
        }
        catch (JsonException e)
        {
            Log.Warning($"ignoring the credentials file {file}: it is not valid JSON ({e.Message})");
            return null;
        }
    }

    private static void Write(AuthFile auth)
    {
        string file = OwnFile;
        // ~/.config/burrow: created 0700, on a chain of directories no other user can change.
        Linux.DirectoryHandle dir = Files.TrustedDirectory.Ensure(Path.GetDirectoryName(file)!, "the configuration directory",
            "set XDG_CONFIG_HOME to a directory of your own");
        // Created 0600 from the start (a password must never sit in a readable file, not even for a moment), under a
        // name nobody can plant, and renamed into place.
        using Files.OutputFile output = Files.OutputFile.CreateIn(dir, Path.GetFileName(file), overwrite: true, Files.OutputFile.PrivateMode);
        JsonSerializer.Serialize(output.Stream, auth, OciJsonContext.Default.AuthFile);
        output.Commit();
    }

    private static string Home() => Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h
        : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
}
