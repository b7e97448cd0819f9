using System.CommandLine;
using System.Text.Json;
using Burrow.Cli.Options;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;
using Burrow.Core.Trust;
using Burrow.Core.Trust.Ecl;

namespace Burrow.Cli.Commands;

/// <summary>What exec, run and shell share: options → facts → identity → plan → explain or launch.</summary>
public static class ActionRunner
{
    /// <summary>The commands whose options end at IMAGE (see Parsing.OptionsEndAtImage).</summary>
    public static readonly IReadOnlySet<string> CommandNames = new HashSet<string>(StringComparer.Ordinal) { "exec", "run", "shell", "test", "start" };

    public static void AddOptions(Command command)
    {
        ActionOptions.AddTo(command);
        IdentityOptions.AddTo(command);
    }

    public static int Run(ParseResult result, ActionKind action, IReadOnlyList<string> arguments, Action<string, LaunchPlan, int>? payloadStarted = null)
    {
        GlobalOptions.Apply(result);
        ActionRequest request = ActionOptions.Read(result, action, arguments);
        Core.Config.BurrowConfig config = CliConfig.Load(result).Config;
        HostUser user = HostUserReader.Read();
        if (InstanceImageSpec.TryParse(result.GetValue(ActionOptions.Image) ?? "") is { } instance)
        {
            return InstanceJoinRunner.Run(result, action, request, instance, config, user);
        }
        IdentityDecision identity = IdentityResolver.Resolve(IdentityOptions.Read(result), user, SubordinateIds.ReadFromHost(), config);
        identity = HomeSpec.Apply(identity, request, user, HostFactsReader.CurrentDirectory());
        HostFacts host = HostFactsReader.Read(request, user, identity, config);
        ImageSpec spec = ImageSpec.Parse(result.GetValue(ActionOptions.Image) ?? "", host.Cwd);
        // The execution control list (burrow.conf's ecl-file) judges the image ImageOpener actually opens, before any of it is used.
        ExecutionControl ecl = ExecutionControl.Load(TrustPaths.ForProcess() with { EclFileOverride = config.EclFile });
        using OpenedImage image = ImageOpener.Open(spec, new ImageOpenOptions { Unsquash = request.Unsquash, Ecl = ecl, Config = config });
        ImageFacts imageFacts = ImageFactsReader.Read(image, request, host, identity);
        if (action == ActionKind.Test && request.App is null && imageFacts.KindOf(FactQueries.TestScript) != PathKind.File)
        {
            Log.Info("No test script found in container, exiting");
            return ExitCodes.Success;
        }
        LaunchPlan plan = LaunchPlanner.Plan(new PlanInput(request, host, imageFacts, identity));
        if (result.GetValue(ActionOptions.Explain))
        {
            // The plan quotes the image (passwd lines, environment, paths): escaped for the terminal. JSON
            // escapes control characters itself.
            Console.Out.Write(result.GetValue(ActionOptions.Json)
                ? JsonSerializer.Serialize(plan, LaunchPlanJsonContext.Default.LaunchPlan) + "\n"
                : TerminalText.EscapeMultiline(PlanExplainer.Render(plan)));
            return ExitCodes.Success;
        }
        if (result.GetValue(ActionOptions.Json))
        {
            throw new BurrowException("--json only goes with --explain", "burrow exec --explain --json IMAGE COMMAND", ExitCodes.Usage);
        }
        foreach (string warning in plan.Warnings)
        {
            Log.Warning(warning);
        }
        if (Log.Level <= LogLevel.Verbose)
        {
            Log.Verbose("launch plan:\n" + PlanExplainer.Render(plan));
        }
        // Failures of any kind (BurrowException, errno, I/O) go to the CLI's one error boundary.
        return Launch.Run(plan, image.CreateServer(), payloadStarted is null ? null : starter => payloadStarted(spec.Given, plan, starter));
    }
}
