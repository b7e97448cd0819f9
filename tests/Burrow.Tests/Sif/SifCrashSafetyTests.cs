using Burrow.Core.Diagnostics;
using Burrow.Core.Sif;

namespace Burrow.Tests.Sif;

/// <summary>
/// Fails every write of an edit in turn (the failing write itself half done) and checks that the image
/// left behind opens and never claims an object it does not hold: every descriptor's data is intact.
/// </summary>
public sealed class SifCrashSafetyTests
{
    /// <summary>A stream whose writes succeed <c>budget</c> times; the next one writes half its bytes and throws, as a full disk would.</summary>
    private sealed class FailingStream(MemoryStream inner, int budget) : Stream
    {
        private int _writes;

        public bool Failed { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value)
        {
            Spend();
            inner.SetLength(value);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_writes == budget)
            {
                inner.Write(buffer, offset, count / 2);
            }
            Spend();
            inner.Write(buffer, offset, count);
        }

        private void Spend()
        {
            if (_writes++ == budget)
            {
                Failed = true;
                throw new IOException("No space left on device (injected)");
            }
        }
    }

    private static readonly byte[] s_squash = Enumerable.Range(0, 9000).Select(i => (byte)(i * 7)).ToArray();

    private static MemoryStream Image()
    {
        var ms = new MemoryStream();
        SifBuilder.Create(ms,
        [
            new SifObjectSpec(SifDataType.GenericJson, new MemoryStream("{\"a\":1}"u8.ToArray())) { Name = "config.json" },
            new SifObjectSpec(SifDataType.Partition, new MemoryStream(s_squash)) { FsType = SifFsType.Squash, PartitionType = SifPartitionType.PrimarySystem, Arch = "amd64" },
            new SifObjectSpec(SifDataType.Partition, new MemoryStream([1, 2, 3, 4])) { FsType = SifFsType.Raw, PartitionType = SifPartitionType.System, Arch = "arm64", GroupId = 2 },
        ]);
        return ms;
    }

    private static Dictionary<uint, byte[]> Contents(byte[] image)
    {
        using SifImage sif = SifImage.Open(new MemoryStream(image), name: "after-failure.sif");
        return sif.Descriptors.ToDictionary(d => d.Id, sif.ReadObject);
    }

    /// <summary>Runs the edit with each write failing in turn until it succeeds; returns the states seen after failures.</summary>
    private static List<Dictionary<uint, byte[]>> FailEachWrite(Action<SifImage> edit, out int writes)
    {
        var states = new List<Dictionary<uint, byte[]>>();
        for (int budget = 0; ; budget++)
        {
            Assert.True(budget < 1000, "the edit never completes");
            MemoryStream ms = Image();
            var failing = new FailingStream(ms, budget);
            using (SifImage image = SifImage.Open(failing, writable: true))
            {
                try
                {
                    edit(image);
                }
                catch (BurrowException e) when (failing.Failed)
                {
                    Assert.StartsWith("cannot write SIF image", e.Message, StringComparison.Ordinal);
                }
            }
            states.Add(Contents(ms.ToArray()));
            if (!failing.Failed)
            {
                writes = budget;
                return states;
            }
        }
    }

    private static void AssertSame(Dictionary<uint, byte[]> expected, Dictionary<uint, byte[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach ((uint id, byte[] data) in expected)
        {
            Assert.Equal(data, actual[id]);
        }
    }

    [Fact]
    public void AFailedAddLeavesTheImageWithoutTheObjectOrWithAllOfIt()
    {
        byte[] payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        Dictionary<uint, byte[]> before = Contents(Image().ToArray());
        List<Dictionary<uint, byte[]>> states = FailEachWrite(image => image.AddObject(new SifObjectSpec(SifDataType.Generic, new MemoryStream(payload))), out int writes);
        Assert.True(writes >= 4, $"an add should take several writes, took {writes}");
        var after = new Dictionary<uint, byte[]>(before) { [4] = payload };
        foreach (Dictionary<uint, byte[]> state in states)
        {
            if (state.Count == before.Count)
            {
                AssertSame(before, state);
            }
            else
            {
                AssertSame(after, state);
            }
        }
        AssertSame(after, states[^1]);
    }

    [Fact]
    public void AFailedDeleteWithZeroAndCompactNeverLeavesADescriptorOverZeroedOrCutData()
    {
        Dictionary<uint, byte[]> before = Contents(Image().ToArray());
        List<Dictionary<uint, byte[]>> states = FailEachWrite(image => image.DeleteObject(3, zero: true, compact: true), out _);
        var after = new Dictionary<uint, byte[]>(before);
        after.Remove(3);
        foreach (Dictionary<uint, byte[]> state in states)
        {
            AssertSame(state.ContainsKey(3) ? before : after, state);
        }
        AssertSame(after, states[^1]);
    }

    [Fact]
    public void AFailedSetPrimaryNeverLeavesTwoPrimaryPartitions()
    {
        Dictionary<uint, byte[]> before = Contents(Image().ToArray());
        for (int budget = 0; budget < 50; budget++)
        {
            MemoryStream ms = Image();
            var failing = new FailingStream(ms, budget);
            using (SifImage image = SifImage.Open(failing, writable: true))
            {
                try
                {
                    image.SetPrimaryPartition(3);
                }
                catch (BurrowException) when (failing.Failed)
                {
                }
            }
            // Opening validates that at most one partition is primary.
            using SifImage after = SifImage.Open(new MemoryStream(ms.ToArray()));
            AssertSame(before, after.Descriptors.ToDictionary(d => d.Id, after.ReadObject));
            Assert.True(after.PrimarySystemPartition?.Id is null or 2 or 3);
            if (!failing.Failed)
            {
                Assert.Equal(3u, after.PrimarySystemPartition!.Id);
                Assert.Equal("arm64", after.Header.PrimaryArch);
                return;
            }
        }
        Assert.Fail("setprim never completed");
    }

    [Fact]
    public void AFailedCreateLeavesNoFileBehind()
    {
        string dir = Directory.CreateTempSubdirectory("burrow-sif-").FullName;
        try
        {
            string path = Path.Combine(dir, "image.sif");
            var broken = new FailingReadStream();
            var e = Assert.ThrowsAny<BurrowException>(() => SifBuilder.Create(path, [new SifObjectSpec(SifDataType.Partition, broken)
            {
                FsType = SifFsType.Squash, PartitionType = SifPartitionType.PrimarySystem, Arch = "amd64",
            }]));
            Assert.Contains("cannot create SIF image", e.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A source that gives some bytes and then fails, as a broken pipe or a vanished file does.</summary>
    private sealed class FailingReadStream : Stream
    {
        private int _reads;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_reads++ > 2)
            {
                throw new IOException("Input/output error (injected)");
            }
            Array.Fill(buffer, (byte)0x55, offset, count);
            return count;
        }
    }
}
