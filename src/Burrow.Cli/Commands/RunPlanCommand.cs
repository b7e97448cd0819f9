using System.CommandLine;
using System.Text.Json;
using Burrow.Core.Diagnostics;
using Burrow.Core.Runtime;
using Burrow.Core.Runtime.Launch;

namespace Burrow.Cli.Commands;

/// <summary><c>burrow __run-plan FILE.json</c>: runs a launch plan written by hand (tests, debugging the stage).</summary>
public static class RunPlanCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "A launch plan as JSON (the --explain structure)" };
        var command = new Command("__run-plan", "Internal: run a launch plan from a JSON file") { Hidden = true };
        command.Arguments.Add(file);
        command.SetAction(result =>
        {
            GlobalOptions.Apply(result);
            string path = result.GetValue(file)!;
            LaunchPlan plan;
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle fd = Burrow.Linux.RegularFile.Open(path);
                plan = JsonSerializer.Deserialize(Burrow.Linux.FileDescriptors.ReadAll(fd, 64 << 20, path), LaunchPlanJsonContext.Default.LaunchPlan)
                    ?? throw new BurrowException($"the launch plan {path} is empty");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or ArgumentException)
            {
                throw new BurrowException($"cannot read the launch plan {path}: {FailureText.Reason(e)}");
            }
            foreach (string warning in plan.Warnings ?? [])
            {
                Log.Warning(warning);
            }
            return ContainerLauncher.Run(plan, RuntimePaths.FromProcess());
        });
        return command;
    }
}
