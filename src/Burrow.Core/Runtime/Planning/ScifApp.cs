namespace Burrow.Core.Runtime.Planning;

/// <summary>
/// The Scientific Filesystem layout Apptainer's definition files build (%appinstall, %apprun, %appenv, %apptest…): an app
/// NAME lives in /scif/apps/NAME (its bin/ and lib/, and scif/ with runscript, test, runscript.help, labels.json and env/),
/// its data in /scif/data/NAME/{input,output}. <c>--app NAME</c> runs its runscript (run) or test (test) and, for every
/// action, puts its bin/ and lib/ first in PATH and LD_LIBRARY_PATH and sources its environment, as the image's own
/// 95-apps.sh does in images Apptainer built; for images without that script, Burrow does the same itself, in its place.
/// </summary>
public static class ScifApp
{
    public const string AppsRoot = "/scif/apps";
    public const string DataRoot = "/scif/data";

    /// <summary>The env script Apptainer writes into every image it builds; it handles the app environment itself.</summary>
    public const string ImageAppsScript = FactQueries.EnvScriptDir + "/95-apps.sh";

    public static string Root(string app) => AppsRoot + "/" + app;

    public static string Meta(string app) => Root(app) + "/scif";

    public static string Runscript(string app) => Meta(app) + "/runscript";

    public static string Test(string app) => Meta(app) + "/test";

    public static string Help(string app) => Meta(app) + "/runscript.help";

    public static string Bin(string app) => Root(app) + "/bin";

    public static string Lib(string app) => Root(app) + "/lib";

    /// <summary>The two app environment scripts 95-apps.sh sources (%appenv is written to 90-environment.sh).</summary>
    public static IReadOnlyList<string> EnvScripts(string app) => [Meta(app) + "/env/01-base.sh", Meta(app) + "/env/90-environment.sh"];

    /// <summary>Every image path the planner asks about for --app.</summary>
    public static IReadOnlyList<string> Paths(string app) => [Root(app), Runscript(app), Test(app), Bin(app), Lib(app), .. EnvScripts(app)];

    /// <summary>A name that can only mean a directory of /scif/apps: no slash, not "." or "..", no NUL.</summary>
    public static bool IsValidName(string app) =>
        app.Length is > 0 and <= 255 && app is not ("." or "..") && !app.Contains('/') && !app.Contains('\0');

    /// <summary>
    /// The SCIF variables Apptainer's app environment sets for the app in use: where its parts and its data are
    /// (scripts in the image use $SCIF_APPDATA, $SCIF_APPINPUT, $SCIF_APPOUTPUT rather than the paths).
    /// </summary>
    public static IReadOnlyList<(string Name, string Value)> Variables(string app) =>
    [
        ("SCIF_APPS", AppsRoot), ("SCIF_DATA", DataRoot), ("SCIF_APPNAME", app), ("SCIF_APPROOT", Root(app)), ("SCIF_APPMETA", Meta(app)),
        ("SCIF_APPBIN", Bin(app)), ("SCIF_APPLIB", Lib(app)), ("SCIF_APPRUN", Runscript(app)), ("SCIF_APPTEST", Test(app)), ("SCIF_APPHELP", Help(app)),
        ("SCIF_APPENV", Meta(app) + "/env/90-environment.sh"), ("SCIF_APPLABELS", Meta(app) + "/labels.json"),
        ("SCIF_APPDATA", DataRoot + "/" + app), ("SCIF_APPINPUT", DataRoot + "/" + app + "/input"), ("SCIF_APPOUTPUT", DataRoot + "/" + app + "/output"),
    ];

    /// <summary>95-apps.sh's work: the SCIF variables, the app's directories first in the search paths, its env scripts.</summary>
    public static IReadOnlyList<EnvStep> EnvironmentSteps(string app, ImageFacts image)
    {
        if (!IsValidName(app) || image.KindOf(Root(app)) != PathKind.Directory)
        {
            return []; // the planner's checks refuse the launch
        }
        var steps = new List<EnvStep>();
        foreach ((string name, string value) in Variables(app))
        {
            steps.Add(new SetVariable(name, value, Evaluate: false));
        }
        steps.Add(new PrependDirectory("PATH", Root(app)));
        if (image.KindOf(Bin(app)) == PathKind.Directory)
        {
            steps.Add(new PrependDirectory("PATH", Bin(app)));
        }
        if (image.KindOf(Lib(app)) == PathKind.Directory)
        {
            steps.Add(new PrependDirectory("LD_LIBRARY_PATH", Lib(app)));
        }
        foreach (string script in EnvScripts(app).Where(s => image.KindOf(s) == PathKind.File))
        {
            steps.Add(new SourceScript(script));
        }
        return steps;
    }
}
