using System.CommandLine;
using Burrow.Core.Diagnostics;
using Burrow.Core.Images;
using Spectre.Console;

namespace Burrow.Cli.Commands;

/// <summary>
/// A progress display per layer and in total on stderr, drawn by Spectre.Console; none with --quiet or when
/// stderr is not a terminal (logs and CI output stay clean).
/// </summary>
public sealed class TransferProgress : IPullProgress, IDisposable
{
    private readonly IAnsiConsole _console;
    private readonly Dictionary<string, ProgressTask> _tasks = [];
    private readonly Lock _lock = new();
    private ProgressContext? _context;
    private ProgressTask? _total;
    private Task? _running;
    private TaskCompletionSource? _finish;

    private TransferProgress(IAnsiConsole console) => _console = console;

    public static TransferProgress? Create(ParseResult result)
    {
        if (Console.IsErrorRedirected || Log.Level > LogLevel.Info)
        {
            return null;
        }
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return new TransferProgress(console);
    }

    public void Layer(string digest, long size)
    {
        EnsureStarted();
        lock (_lock)
        {
            if (_context is null || _tasks.ContainsKey(digest))
            {
                return;
            }
            // The digest comes from the registry: Spectre reads task descriptions as markup, so escape it, and its
            // control characters, before it is drawn.
            string label = TerminalText.Escape(digest.Length > 19 ? digest[..19] : digest);
            _tasks[digest] = _context.AddTask(Markup.Escape(label), maxValue: Math.Max(1, size));
            _total!.MaxValue += Math.Max(1, size);
        }
    }

    public void Advance(string digest, long bytes)
    {
        lock (_lock)
        {
            if (_tasks.TryGetValue(digest, out ProgressTask? t))
            {
                t.Increment(bytes);
                _total!.Increment(bytes);
            }
        }
    }

    public void Done()
    {
        _finish?.TrySetResult();
        _running?.Wait();
    }

    public void Dispose() => Done();

    private void EnsureStarted()
    {
        if (_running is not null)
        {
            return;
        }
        var ready = new ManualResetEventSlim();
        _finish = new TaskCompletionSource();
        _running = _console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn())
            .StartAsync(async ctx =>
            {
                lock (_lock)
                {
                    _context = ctx;
                    _total = ctx.AddTask("total", maxValue: 0.000001);
                    _total.MaxValue = 0;
                }
                ready.Set();
                await _finish.Task.ConfigureAwait(false);
            });
        ready.Wait();
    }
}
