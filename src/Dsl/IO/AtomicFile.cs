namespace Dsl.IO;

/// <summary>Writes a file so that a reader sees the old one or the complete new one, never a part.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Runs <paramref name="write"/> on a temporary file beside <paramref name="path"/>, flushes it to disk and moves it
    /// over <paramref name="path"/>; a write or move that fails deletes the temporary file and leaves the old one as it was.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = path + ".partial-" + Guid.NewGuid().ToString("N");
        try
        {
            using (FileStream file = File.Create(temporary))
            {
                write(file);
                file.Flush(flushToDisk: true); // on disk before the move makes it the file at path
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) // only when the write or the move failed
            {
                File.Delete(temporary);
            }
        }
    }
}
