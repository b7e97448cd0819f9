using System.Globalization;

namespace Burrow.Core.Sif;

/// <summary>
/// SIF stores Unix seconds, with Go's zero time (year 1) as "no time" in deterministic images. This turns
/// them into .NET times and into the text Go's time.Time.String() prints for a UTC time.
/// </summary>
public static class SifTime
{
    public static bool IsZero(long unix) => unix == SifLayout.GoZeroTime;

    public static long FromDateTime(DateTimeOffset t) => t.ToUnixTimeSeconds();

    /// <summary>Null for Go's zero time and for values .NET cannot represent.</summary>
    public static DateTimeOffset? ToDateTime(long unix) =>
        unix == SifLayout.GoZeroTime || unix < -62135596800 || unix > 253402300799 ? null : DateTimeOffset.FromUnixTimeSeconds(unix);

    /// <summary>
    /// "2020-06-30 00:01:56 +0000 UTC" for any int64, by civil-date arithmetic rather than DateTime, so
    /// that absurd stored values print instead of throwing.
    /// </summary>
    public static string FormatGo(long unix)
    {
        long days = Math.DivRem(unix, 86400, out long secs);
        if (secs < 0)
        {
            secs += 86400;
            days--;
        }
        // Howard Hinnant's days_from_civil inverse, in 128-bit to stay exact for every int64 input.
        Int128 z = (Int128)days + 719468;
        Int128 era = (z >= 0 ? z : z - 146096) / 146097;
        Int128 doe = z - era * 146097;
        Int128 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        Int128 y = yoe + era * 400;
        Int128 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        Int128 mp = (5 * doy + 2) / 153;
        Int128 d = doy - (153 * mp + 2) / 5 + 1;
        Int128 m = mp < 10 ? mp + 3 : mp - 9;
        if (m <= 2)
        {
            y += 1;
        }
        string year = y < 0 ? "-" + (-y).ToString("D4", CultureInfo.InvariantCulture) : y.ToString("D4", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"{year}-{(int)m:D2}-{(int)d:D2} {secs / 3600:D2}:{secs / 60 % 60:D2}:{secs % 60:D2} +0000 UTC");
    }
}
