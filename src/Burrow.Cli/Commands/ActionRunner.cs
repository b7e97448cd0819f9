using System.CommandLine;
using System.Text.Json;
using Burrow.Cli.Options;
using Burrow.Core.Diagnostics;
using Burrow.Core.Identity;
using Burrow.Core.Images;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Planning;
using Burrow.Core.Runtime.Planning.Facts;

namespace Burrow.Cli.Commands;

/// <summary>What exec, run and shell share: options → facts → identity → plan → explain or launch.</summary>
public static class ActionRunner
{
    /// <summary>The commands whose options end at IMAGE (see Parsing.OptionsEndAtImage).</summary>
    public static readonly IReadOnlySet<string> CommandNames = new HashSet<string>(StringComparer.Ordinal) { "exec", "run", "shell", "test" };

    public static void AddOptions(Command command)
    {
        ActionOptions.AddTo(command);
        IdentityOptions.AddTo(command);
    }

    public static int Run(ParseResult result, ActionKind action, IReadOnlyList<string> arguments)
    {
        GlobalOptions.Apply(result);
        try
        {
            ActionRequest request = ActionOptions.Read(result, action, arguments);
            Core.Config.BurrowConfig config = CliConfig.Load(result).Config;
            HostUser user = HostUserReader.Read();
            IdentityDecision identity = IdentityResolver.Resolve(IdentityOptions.Read(result), user, SubordinateIds.ReadFromHost(), config);
            HostFacts host = HostFactsReader.Read(request, user, identity, config);
            ImageSpec spec = ImageSpec.Parse(result.GetValue(ActionOptions.Image) ?? "", host.Cwd);
            using OpenedImage image = ImageOpener.Open(spec, new ImageOpenOptions { Unsquash = request.Unsquash, Config = config });
            ImageFacts imageFacts = ImageFactsReader.Read(image, request, host.Cwd, identity);
            if (action == ActionKind.Test && imageFacts.KindOf(FactQueries.TestScript) != PathKind.File)
            {
                Log.Info("No test script found in container, exiting");
                return ExitCodes.Success;
            }
            LaunchPlan plan = LaunchPlanner.Plan(new PlanInput(request, host, imageFacts, identity));
            if (result.GetValue(ActionOptions.Explain))
            {
                Console.Out.Write(result.GetValue(ActionOptions.Json)
                    ? JsonSerializer.Serialize(plan, LaunchPlanJsonContext.Default.LaunchPlan) + "\n"
                    : PlanExplainer.Render(plan));
                return ExitCodes.Success;
            }
            if (result.GetValue(ActionOptions.Json))
            {
                throw new BurrowException("--json only goes with --explain", "burrow exec --explain --json IMAGE COMMAND");
            }
            foreach (string warning in plan.Warnings)
            {
                Log.Warning(warning);
            }
            if (Log.Level <= LogLevel.Verbose)
            {
                Log.Verbose("launch plan:\n" + PlanExplainer.Render(plan));
            }
            return Launch.Run(plan, image.CreateServer());
        }
        catch (BurrowException e)
        {
            return Program.Report(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file Burrow needed and could not use, not caught closer to where it happened: still an ERROR
            // line naming it, never a stack trace (the project's rule for every failure a user can meet).
            string detail = e.InnerException is { } inner && inner.Message != e.Message ? $" ({inner.Message})" : "";
            Log.Failure(e.Message + detail);
            Log.Failure("rerun with --debug for details");
            Log.Debug(e.ToString());
            return ExitCodes.Failure;
        }
    }
}
