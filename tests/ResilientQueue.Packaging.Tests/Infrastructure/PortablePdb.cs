using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;

namespace ResilientQueue.Packaging.Tests.Infrastructure;

/// <summary>What an assembly and its portable PDB say about the build machine's paths.</summary>
internal static class PortablePdb
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");

    /// <summary>The PDB path recorded in the assembly's CodeView debug directory entry.</summary>
    public static string RecordedPdbPath(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        DebugDirectoryEntry codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
        return pe.ReadCodeViewDebugDirectoryData(codeView).Path;
    }

    /// <summary>Whether the assembly embeds its PDB (DebugType embedded) instead of shipping it beside.</summary>
    public static bool HasEmbeddedPdb(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        return pe.ReadDebugDirectory().Any(e => e.Type == DebugDirectoryEntryType.EmbeddedPortablePdb);
    }

    /// <summary>The source document paths in a portable PDB.</summary>
    public static IReadOnlyList<string> Documents(byte[] pdb)
    {
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(pdb));
        MetadataReader reader = provider.GetMetadataReader();
        return reader.Documents.Select(h => reader.GetString(reader.GetDocument(h).Name)).ToList();
    }

    /// <summary>The SourceLink JSON of a portable PDB, or <see langword="null"/> when it has none.</summary>
    public static string? SourceLink(byte[] pdb)
    {
        using MetadataReaderProvider provider = MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(pdb));
        MetadataReader reader = provider.GetMetadataReader();
        foreach (CustomDebugInformationHandle handle in reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            CustomDebugInformation information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) == SourceLinkKind)
            {
                return Encoding.UTF8.GetString(reader.GetBlobBytes(information.Value));
            }
        }

        return null;
    }
}
