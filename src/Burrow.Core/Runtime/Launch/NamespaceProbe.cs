using System.Globalization;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Core.Runtime.Launch;

/// <summary>What one feature probe found in a real user namespace.</summary>
public sealed record ProbeFinding(bool Works, string Detail);

/// <summary>What <see cref="NamespaceProbe"/> found: the user namespace itself, and an overlay mounted inside it.</summary>
public sealed record ProbeResult(ProbeFinding UserNamespace, ProbeFinding? Overlay);

/// <summary>
/// For <c>burrow check</c>: starts Burrow's own starter as a container launch does (so an AppArmor profile attached to
/// the starter counts, as it does for real containers) with <c>burrow __probe</c> as the stage, which tries in its user
/// and mount namespaces what the runtime needs — a tmpfs, and an overlay whose lower layer is a host directory, with the
/// options the runtime uses — and reports each on the sync socket. Nothing is left behind: the mounts live in the
/// probe's own mount namespace, and its directory is removed.
/// </summary>
public static class NamespaceProbe
{
    public const string Command = "__probe";
    public const string UserNamespaceFeature = "userns";
    public const string OverlayFeature = "overlay";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    public static ProbeResult Run(RuntimePaths paths, IdentityPlan identity)
    {
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(identity);
        if (!File.Exists(paths.Starter))
        {
            return new ProbeResult(new ProbeFinding(false, $"the starter {paths.Starter} is missing"), null);
        }
        string dir;
        try
        {
            dir = Files.TemporaryDirectories.Create("burrow-probe");
        }
        catch (BurrowException e)
        {
            return new ProbeResult(new ProbeFinding(false, "cannot run the probe: " + e.Message), null);
        }
        try
        {
            foreach (string sub in new[] { "lower", "merged", "tmp" })
            {
                Directory.CreateDirectory(Path.Combine(dir, sub));
            }
            File.WriteAllText(Path.Combine(dir, "lower", "marker"), "burrow\n");
            return Probe(paths, identity, dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or LinuxException)
        {
            return new ProbeResult(new ProbeFinding(false, "cannot run the probe: " + e.Message), null);
        }
        finally
        {
            Files.TemporaryDirectories.Remove(dir);
        }
    }

    private static ProbeResult Probe(RuntimePaths paths, IdentityPlan identity, string dir)
    {
        (SafeFileHandle engineEnd, SafeFileHandle starterEnd) = FileDescriptors.SeqPacketPair();
        using (engineEnd)
        {
            int fd = (int)starterEnd.DangerousGetHandle();
            string n = fd.ToString(CultureInfo.InvariantCulture);
            int pid;
            using (starterEnd)
            {
                pid = Processes.Spawn(paths.Starter,
                    [paths.Starter, n, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "-", paths.Self, Command, n, dir], [], [fd]);
            }
            ProbeFinding? userns = null, overlay = null;
            var reader = new Thread(() =>
            {
                try
                {
                    for (string? m = FileDescriptors.ReceivePacket(engineEnd); m is not null; m = FileDescriptors.ReceivePacket(engineEnd))
                    {
                        if (m == StarterProtocol.UserNamespaceReady)
                        {
                            try
                            {
                                IdMapWriting.Write(pid, identity, null);
                                FileDescriptors.SendPacket(engineEnd, StarterProtocol.Go);
                            }
                            catch (BurrowException e)
                            {
                                userns = new ProbeFinding(false, "the user namespace was made, but its id maps could not be written: " + e.Message);
                                FileDescriptors.SendPacket(engineEnd, StarterProtocol.Abort);
                            }
                            continue;
                        }
                        string[] f = m.Length > 1 ? m[1..].Split('\t') : [];
                        if (m[0] == StarterProtocol.ProbeResult && f.Length == 3)
                        {
                            var finding = new ProbeFinding(f[1] == "1", f[2]);
                            if (f[0] == UserNamespaceFeature)
                            {
                                userns = finding;
                            }
                            else if (f[0] == OverlayFeature)
                            {
                                overlay = finding;
                            }
                        }
                        else if (m[0] == StarterProtocol.StarterError && f.Length >= 2)
                        {
                            string reason = System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(int.Parse(f[0], CultureInfo.InvariantCulture));
                            userns ??= new ProbeFinding(false, $"burrow-starter: {f[1]}: {reason}");
                        }
                        else if (m[0] == StarterProtocol.StageFailure && f.Length >= 2)
                        {
                            userns ??= new ProbeFinding(false, f[1]);
                        }
                        else if (m[0] == StarterProtocol.PayloadStatus)
                        {
                            break;
                        }
                    }
                }
                catch (Exception e) when (e is LinuxException or InvalidDataException or FormatException)
                {
                    userns ??= new ProbeFinding(false, "lost contact with the probe: " + e.Message);
                }
            }) { IsBackground = true, Name = "burrow probe" };
            reader.Start();
            if (!reader.Join(s_timeout))
            {
                ProcessSecurity.Kill(pid, 9);
                reader.Join();
                userns ??= new ProbeFinding(false, $"the probe did not finish within {s_timeout.TotalSeconds:F0} s");
            }
            if (!Processes.TryReap(pid))
            {
                Processes.Wait(pid);
            }
            return new ProbeResult(userns ?? new ProbeFinding(false, "the probe ended without a word"), overlay);
        }
    }
}
