using Burrow.Linux;
using Microsoft.Win32.SafeHandles;

namespace Burrow.Tests.Runtime;

/// <summary>The starter socket carries a descriptor with a message (the stage hands the FUSE device to the engine).</summary>
public sealed class DescriptorPassingTests
{
    [Fact]
    public void ADescriptorArrivesWithItsMessageAndStillNamesTheSameFile()
    {
        (SafeFileHandle a, SafeFileHandle b) = FileDescriptors.SeqPacketPair();
        using (a)
        using (b)
        using (SafeFileHandle file = FileDescriptors.MemoryFile("burrow-test", "hello"u8))
        {
            Assert.True(FileDescriptors.SendPacket(a, "M", file));
            Packet? packet = FileDescriptors.ReceivePacketWithDescriptor(b);
            Assert.NotNull(packet);
            Assert.Equal("M", packet.Value.Text);
            using SafeFileHandle received = Assert.IsType<SafeFileHandle>(packet.Value.Descriptor);
            Assert.NotEqual(file.DangerousGetHandle(), received.DangerousGetHandle());
            Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(FileDescriptors.ReadAll(received, 100, "the passed file")));
        }
    }

    [Fact]
    public void APlainMessageCarriesNoDescriptor()
    {
        (SafeFileHandle a, SafeFileHandle b) = FileDescriptors.SeqPacketPair();
        using (a)
        using (b)
        {
            Assert.True(FileDescriptors.SendPacket(a, "S0"));
            Packet? packet = FileDescriptors.ReceivePacketWithDescriptor(b);
            Assert.Equal(new Packet("S0", null), packet);
        }
    }

    [Fact]
    public void ADescriptorOnAMessageThatTakesNoneIsRefusedAndClosed()
    {
        (SafeFileHandle a, SafeFileHandle b) = FileDescriptors.SeqPacketPair();
        using (a)
        using (b)
        using (SafeFileHandle file = FileDescriptors.MemoryFile("burrow-test", "x"u8))
        {
            FileDescriptors.SendPacket(a, "S0", file);
            Assert.Throws<InvalidDataException>(() => FileDescriptors.ReceivePacket(b));
        }
    }

    [Fact]
    public void EndOfFileIsNull()
    {
        (SafeFileHandle a, SafeFileHandle b) = FileDescriptors.SeqPacketPair();
        a.Dispose();
        using (b)
        {
            Assert.Null(FileDescriptors.ReceivePacketWithDescriptor(b));
        }
    }
}
