using Burrow.Core.Diagnostics;

namespace Burrow.Core.Sif;

/// <summary>
/// The fuzzing entry point: takes arbitrary bytes and drives everything a user can do with an image (open,
/// header, list, info, dump, integrity metadata, then add, delete and set-primary on a copy, and reopen).
/// Any bad input must surface as a <see cref="BurrowException"/>; any other exception escaping is a bug.
/// </summary>
public static class SifFuzzTarget
{
    /// <summary>Returns true if the bytes opened as an image, false if they were rejected cleanly.</summary>
    public static bool Exercise(byte[] input)
    {
        try
        {
            using (SifImage image = SifImage.Open(new MemoryStream(input, writable: false), name: "fuzz.sif"))
            {
                _ = SifText.Header(image);
                _ = SifText.List(image);
                _ = SifIntegrity.HeaderBytes(image.Header);
                foreach (SifDescriptor d in image.Descriptors)
                {
                    _ = SifText.Info(d);
                    _ = SifIntegrity.DescriptorBytes(d, d.Id - SifIntegrity.GroupMinimumId(image, d));
                    using Stream s = image.OpenObject(d);
                    s.CopyTo(Stream.Null);
                }
                foreach (uint group in image.Descriptors.Select(d => d.GroupId).Where(g => g != 0).Distinct())
                {
                    _ = SifIntegrity.ImageMetadataJson(image, image.ByGroup(group));
                }
            }
        }
        catch (BurrowException)
        {
            return false;
        }
        Edit(input);
        return true;
    }

    /// <summary>Edits must either fail cleanly or leave an image that opens again.</summary>
    private static void Edit(byte[] input)
    {
        var copy = new MemoryStream();
        copy.Write(input);
        using (SifImage image = SifImage.Open(copy, writable: true, name: "fuzz.sif"))
        {
            TryClean(() => image.AddObject(new SifObjectSpec(SifDataType.Generic, new MemoryStream([1, 2, 3]))));
            if (image.Descriptors.FirstOrDefault() is { } first)
            {
                TryClean(() => image.DeleteObject(first.Id, zero: true, compact: true));
            }
            if (image.Descriptors.FirstOrDefault(d => d.PartitionType == SifPartitionType.System) is { } part)
            {
                TryClean(() => image.SetPrimaryPartition(part.Id));
            }
        }
        using SifImage reopened = SifImage.Open(copy, name: "fuzz-edited.sif");
        _ = SifText.List(reopened);
    }

    private static void TryClean(Action edit)
    {
        try
        {
            edit();
        }
        catch (BurrowException)
        {
        }
    }
}
