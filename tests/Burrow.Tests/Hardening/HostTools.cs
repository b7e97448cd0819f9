using System.Diagnostics;

namespace Burrow.Tests.Hardening;

/// <summary>Host commands the hardening tests use to build what an attacker or a clumsy user leaves around.</summary>
internal static class HostTools
{
    public static void Mkfifo(string path) => Run("mkfifo", path);

    public static void Chmod(string mode, string path) => Run("chmod", mode, path);

    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {string.Join(' ', args)}: {err.Result}");
        return output;
    }
}
