using System.Buffers.Binary;
using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

/// <summary>
/// Mutates the reference's fixture images and feeds them to <see cref="SifFuzzTarget"/>: only clean
/// errors are allowed. scripts/test runs a bounded number of cases; scripts/fuzz-sif runs 100,000 or more
/// (BURROW_SIF_FUZZ_CASES, BURROW_SIF_FUZZ_SEED).
/// </summary>
public sealed class SifFuzzTests
{
    private static readonly long[] s_interesting =
    [
        0, 1, -1, 2, 127, 128, 585, 4095, 4096, 4097, 32176, 32768, 40960, int.MaxValue, uint.MaxValue, long.MaxValue, long.MinValue,
        long.MaxValue - 4096, 0xF0000000, 0xF0000001, 0x0FFFFFFF, -62135596800, 100_000, 100_001,
    ];

    [Fact]
    public void MutatedFixturesGiveOnlyCleanErrors()
    {
        int cases = int.TryParse(Environment.GetEnvironmentVariable("BURROW_SIF_FUZZ_CASES"), out int n) ? n : 3000;
        int seed = int.TryParse(Environment.GetEnvironmentVariable("BURROW_SIF_FUZZ_SEED"), out int s) ? s : 20261128;
        byte[][] corpus = SifFixtures.AllImages().Select(File.ReadAllBytes).ToArray();
        var random = new Random(seed);
        int opened = 0;
        for (int i = 0; i < cases; i++)
        {
            byte[] input = Mutate(corpus[random.Next(corpus.Length)], random);
            try
            {
                if (SifFuzzTarget.Exercise(input))
                {
                    opened++;
                }
            }
            catch (Exception e)
            {
                string saved = Path.Combine(Path.GetTempPath(), $"sif-fuzz-{seed}-{i}.sif");
                File.WriteAllBytes(saved, input);
                Assert.Fail($"case {i} (seed {seed}) escaped with {e.GetType().Name}: {e.Message}\ninput saved to {saved}\n{e}");
            }
        }
        // Report through the test output for scripts/fuzz-sif; also check the mutations are not all rejected.
        Console.WriteLine($"SIF fuzz: {cases} cases, seed {seed}: {opened} opened, {cases - opened} rejected with a clean error, 0 crashes");
        Assert.True(opened > cases / 20, $"only {opened} of {cases} mutated images opened: the mutator is too destructive to test the readers");
    }

    private static byte[] Mutate(byte[] original, Random r)
    {
        byte[] b = (byte[])original.Clone();
        int rounds = 1 + r.Next(3);
        for (int k = 0; k < rounds; k++)
        {
            // Most damage goes where the parser looks: the header and the used part of the descriptor table.
            int metaEnd = Math.Min(b.Length, 4096 + 6 * 585);
            switch (r.Next(8))
            {
                case 0:
                    for (int j = r.Next(1, 8); j > 0 && b.Length > 0; j--)
                    {
                        int at = r.Next(2) == 0 ? r.Next(Math.Min(128, b.Length)) : r.Next(metaEnd);
                        b[at] ^= (byte)(1 << r.Next(8));
                    }
                    break;
                case 1:
                    WriteField(b, r.Next(16) * 8 % 128, r, 8);
                    break;
                case 2:
                {
                    int slot = 4096 + r.Next(6) * 585;
                    int[] fields = [0, 5, 9, 13, 17, 25, 33, 41, 49, 57, 65];
                    int f = fields[r.Next(fields.Length)];
                    WriteField(b, slot + f, r, f is 0 or 5 or 9 or 13 ? 4 : 8);
                    break;
                }
                case 3:
                    Array.Resize(ref b, r.Next(b.Length + 1));
                    break;
                case 4:
                {
                    int extra = r.Next(1, 5000);
                    int old = b.Length;
                    Array.Resize(ref b, old + extra);
                    r.NextBytes(b.AsSpan(old));
                    break;
                }
                case 5:
                    if (b.Length >= 4096 + 6 * 585)
                    {
                        int from = 4096 + r.Next(6) * 585, to = 4096 + r.Next(6) * 585;
                        b.AsSpan(from, 585).CopyTo(b.AsSpan(to));
                    }
                    break;
                case 6:
                    if (b.Length >= 4096 + 6 * 585)
                    {
                        int at = 4096 + r.Next(6) * 585 + 73 + r.Next(128 + 384);
                        b[at] = (byte)r.Next(256);
                    }
                    break;
                default:
                    if (b.Length > 0)
                    {
                        b[r.Next(b.Length)] = (byte)r.Next(256);
                    }
                    break;
            }
        }
        return b;
    }

    private static void WriteField(byte[] b, int at, Random r, int width)
    {
        if (at + width > b.Length || b.Length < 8)
        {
            return;
        }
        long value = r.Next(3) switch
        {
            0 => s_interesting[r.Next(s_interesting.Length)],
            1 => BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(Math.Min(at, b.Length - 8))) + r.Next(-600, 600),
            _ => r.NextInt64(),
        };
        if (width == 8)
        {
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(at), value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), (uint)value);
        }
    }
}
