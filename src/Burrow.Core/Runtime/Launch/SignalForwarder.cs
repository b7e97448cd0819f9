using System.Runtime.InteropServices;
using Burrow.Linux;

namespace Burrow.Core.Runtime.Launch;

/// <summary>
/// Relays the signals a user or a batch system sends to burrow (INT, TERM, HUP, QUIT, USR1, USR2, WINCH)
/// to the starter's monitor, which passes them on to the payload. Registered before the starter is
/// spawned, so a signal that arrives in between is kept and delivered once the target is known.
/// The monitor has a session of its own, so the terminal's own signals (Ctrl-C, a resize) reach it only
/// this way. An interactive payload, still in burrow's process group and so in the terminal's foreground group,
/// gets those from the terminal directly: while burrow is in the foreground, SIGINT, SIGQUIT and SIGWINCH are
/// therefore not relayed (Ctrl-C would reach the payload twice), as Apptainer does not relay in the foreground either.
/// </summary>
internal sealed class SignalForwarder : IDisposable
{
    private static readonly (PosixSignal Signal, int Number)[] s_forwarded =
    [
        (PosixSignal.SIGHUP, 1), (PosixSignal.SIGINT, 2), (PosixSignal.SIGQUIT, 3), (PosixSignal.SIGTERM, 15),
        ((PosixSignal)10, 10), ((PosixSignal)12, 12), ((PosixSignal)28, 28),
    ];

    /// <summary>The signals a terminal sends its foreground process group by itself: keys (Ctrl-C, Ctrl-\) and a resize.</summary>
    private static readonly int[] s_fromTerminal = [2, 3, 28];

    private readonly List<PosixSignalRegistration> _registrations = [];
    private readonly List<int> _pending = [];
    private readonly Lock _lock = new();
    private readonly bool _payloadSharesTerminal;
    private int _target;

    /// <summary>The monitor's PARENT_DIED_SIGNAL (SIGRTMIN+3): it SIGKILLs every process of the container and exits.</summary>
    private const int AbortSignal = 34 + 3;

    /// <param name="payloadSharesTerminal">The payload keeps burrow's session and process group (it has a terminal).</param>
    /// <param name="interruptKills">
    /// SIGINT, SIGTERM and SIGHUP end the whole container at once instead of reaching the payload (a build's %post:
    /// a shell waiting on a command would only act on them when the command ends); the caller sees them through
    /// <see cref="Diagnostics.Interruption"/> and cleans up.
    /// </param>
    public SignalForwarder(bool payloadSharesTerminal, bool interruptKills = false)
    {
        _payloadSharesTerminal = payloadSharesTerminal;
        foreach ((PosixSignal signal, int number) in s_forwarded)
        {
            bool abort = interruptKills && number is 1 or 2 or 15;
            _registrations.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true; // burrow stays alive: it exits with the payload's status
                if (abort)
                {
                    Forward(AbortSignal);
                    return;
                }
                if (_payloadSharesTerminal && s_fromTerminal.Contains(number) && ProcessSecurity.IsTerminalForeground(0, 1, 2))
                {
                    return; // the terminal sent it to the payload's process group too
                }
                Forward(number);
            }));
        }
    }

    /// <summary>The process to forward to; pending signals are delivered now.</summary>
    public int Target
    {
        set
        {
            int[] pending;
            lock (_lock)
            {
                _target = value;
                pending = [.. _pending];
                _pending.Clear();
            }
            foreach (int sig in pending)
            {
                ProcessSecurity.Kill(value, sig);
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _target = 0;
        }
        _registrations.ForEach(r => r.Dispose());
    }

    private void Forward(int number)
    {
        lock (_lock)
        {
            if (_target <= 0)
            {
                _pending.Add(number);
                return;
            }
            ProcessSecurity.Kill(_target, number);
        }
    }
}
