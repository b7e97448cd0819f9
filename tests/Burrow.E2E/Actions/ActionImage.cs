using System.Diagnostics;
using Burrow.E2E.Harness;

namespace Burrow.E2E.Actions;

/// <summary>
/// A small image made for these tests: the busybox image's files plus what Apptainer images carry,
/// /.singularity.d/env/*.sh (sourced in order) and a runscript. Built once per test class in a
/// temporary directory every test user can read, and removed afterwards.
/// </summary>
public sealed class ActionImage : IDisposable
{
    public ActionImage()
    {
        Root = Path.Combine(Path.GetTempPath(), "burrow-e2e-image-" + Guid.NewGuid().ToString("N")[..12]);
        Run("cp", "-a", E2EEnvironment.BusyboxTree, Root);
        string sd = Path.Combine(Root, ".singularity.d");
        Directory.CreateDirectory(Path.Combine(sd, "env"));
        // Order matters: 90 sees what 01 set; user values (--env, BURROWENV_) must still win over both.
        File.WriteAllText(Path.Combine(sd, "env", "01-base.sh"), "export ORDER=first\nexport FROM_IMAGE=base\nexport OVERRIDDEN=image\n");
        File.WriteAllText(Path.Combine(sd, "env", "90-environment.sh"), "export ORDER=\"$ORDER,second\"\nexport PATH=/opt/tool/bin:$PATH\n");
        File.WriteAllText(Path.Combine(sd, "env", "README"), "not a .sh file: never sourced\nexport NOT_SOURCED=1\n");
        File.WriteAllText(Path.Combine(sd, "runscript"), "#!/bin/sh\necho \"runscript args: $*\"\n");
        Run("chmod", "-R", "a+rX", Root);
        Run("chmod", "0755", Path.Combine(sd, "runscript"));
    }

    public string Root { get; }

    public void Dispose() => Run("rm", "-rf", Root);

    internal static void Run(string file, params string[] args)
    {
        using var p = Process.Start(file, args);
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with {p.ExitCode}");
        }
    }
}
