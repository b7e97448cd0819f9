using System.Runtime.InteropServices;

namespace Burrow.Core.Diagnostics;

/// <summary>
/// SIGINT, SIGTERM and SIGHUP sent to burrow while it pulls, builds or inspects: instead of dying with temp files
/// left behind (the runtime's default), Burrow cancels <see cref="Token"/>, every step unwinds through its
/// clean-up, and the CLI exits 128+N with one ERROR: line. While a container runs, the launcher's own handlers
/// forward the same signals to the payload; a cancelled token changes nothing there.
/// SIGXFSZ (a file size limit, <c>ulimit -f</c>) is caught too, so that the write fails with EFBIG and is
/// reported instead of killing Burrow mid-write.
/// </summary>
public static class Interruption
{
    private static readonly CancellationTokenSource s_source = new();
    private static readonly List<PosixSignalRegistration> s_registrations = [];
    private static int s_signal;

    /// <summary>Cancelled when one of the signals arrives.</summary>
    public static CancellationToken Token => s_source.Token;

    /// <summary>The first signal number received, or null.</summary>
    public static int? Signal => s_signal == 0 ? null : s_signal;

    /// <summary>Installs the handlers once (the CLI calls this at start, after the stage's fast path).</summary>
    public static void Install()
    {
        lock (s_registrations)
        {
            if (s_registrations.Count > 0)
            {
                return;
            }
            foreach ((PosixSignal signal, int number) in new[] { (PosixSignal.SIGINT, 2), (PosixSignal.SIGTERM, 15), (PosixSignal.SIGHUP, 1) })
            {
                s_registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    context.Cancel = true;
                    Interlocked.CompareExchange(ref s_signal, number, 0);
                    s_source.Cancel();
                }));
            }
            // SIGXFSZ (25): handled means not fatal; the write that crossed the limit then fails with EFBIG.
            s_registrations.Add(PosixSignalRegistration.Create((PosixSignal)25, context => context.Cancel = true));
        }
    }

    /// <summary>Throws <see cref="OperationCanceledException"/> once a signal has arrived.</summary>
    public static void ThrowIfRequested() => s_source.Token.ThrowIfCancellationRequested();

    /// <summary>A token cancelled by <paramref name="ct"/> or by a signal.</summary>
    public static CancellationTokenSource Linked(CancellationToken ct) => CancellationTokenSource.CreateLinkedTokenSource(ct, s_source.Token);

    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "signal " + signal.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
