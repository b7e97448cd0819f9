using Burrow.Core.Diagnostics;

namespace Burrow.Core.Fuse;

/// <summary>
/// Turns failures met while answering the kernel into WARNING lines, each distinct message once. A damaged image can
/// fail every read of a hot file; the user needs to hear of it, not to read it ten thousand times. After
/// <see cref="MaxDistinct"/> distinct messages the reporter says so once and from then on only counts.
/// </summary>
internal sealed class FailureReporter(string imageName)
{
    internal const int MaxDistinct = 16;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private bool _saidEnough;
    private long _suppressed;

    public string ImageName => imageName;

    /// <summary>How many failures were answered with EIO in all (shown or not).</summary>
    public long Count { get; private set; }

    public void Damaged(InvalidDataException e) => Report($"{imageName}: {e.Message} (answered with an I/O error)");

    public void Unexpected(FuseOpcode opcode, Exception e) =>
        Report($"{imageName}: {e.GetType().Name} while answering FUSE {opcode}: {e.Message} (answered with an I/O error)");

    public void Channel(string message) => Report($"{imageName}: {message}");

    /// <summary>Says how many messages were held back, if any (at the end of serving).</summary>
    public void Flush()
    {
        long suppressed;
        lock (_seen)
        {
            suppressed = _suppressed;
            _suppressed = 0;
        }
        if (suppressed > 0)
        {
            Log.Warning($"{imageName}: {suppressed} more failure(s) of the image were not shown");
        }
    }

    private void Report(string message)
    {
        string? say = null;
        lock (_seen)
        {
            Count++;
            if (_seen.Contains(message))
            {
                return;
            }
            if (_seen.Count < MaxDistinct)
            {
                _seen.Add(message);
                say = message;
            }
            else
            {
                _suppressed++;
                if (!_saidEnough)
                {
                    _saidEnough = true;
                    say = $"{imageName}: more failures; further ones are counted, not shown";
                }
            }
        }
        if (say is not null)
        {
            Log.Warning(say);
        }
    }
}
