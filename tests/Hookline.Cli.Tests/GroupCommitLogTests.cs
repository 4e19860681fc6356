using System.Buffers.Binary;
using System.Text;
using Hookline.Cli.Bench;

namespace Hookline.Cli.Tests;

/// <summary>
/// The append-only file under the bench's S1 floor. The floor stands for a durable forwarder (its 201 follows an
/// fsync, its outcomes count once on disk), so what it writes must all be there, framed, and counted only once written.
/// </summary>
public sealed class GroupCommitLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hookline-group-log-").FullName;

    [Fact]
    public async Task A_record_is_in_the_file_when_its_append_completes()
    {
        var path = Path.Combine(_directory, "log");
        using var log = new GroupCommitLog(path, _ => { });
        var batch = new MemoryStream();
        GroupCommitLog.Frame(batch, "evt_A", Encoding.UTF8.GetBytes("""{"a":1}"""));
        GroupCommitLog.Frame(batch, "evt_B", Encoding.UTF8.GetBytes("""{"b":2}"""));

        await log.AppendAsync(batch.ToArray());

        Assert.Equal([("evt_A", """{"a":1}"""), ("evt_B", """{"b":2}""")], Read(path).Select(r => (r.Id, Encoding.UTF8.GetString(r.Bytes))));
    }

    [Fact]
    public async Task Concurrent_appends_and_outcomes_are_all_written_once_and_outcomes_counted_once()
    {
        var path = Path.Combine(_directory, "log");
        long durableOutcomes = 0;
        var log = new GroupCommitLog(path, n => Interlocked.Add(ref durableOutcomes, n));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                var record = new MemoryStream();
                GroupCommitLog.Frame(record, $"evt_{t}_{i}", [(byte)t]);
                var appended = log.AppendAsync(record.ToArray());
                log.AppendOutcome($"out_{t}_{i}", 200 + t);
                await appended;
            }
        })));
        log.Dispose();

        var records = Read(path);
        var events = records.Where(r => r.Id.StartsWith("evt_", StringComparison.Ordinal)).ToList();
        var outcomes = records.Where(r => r.Id.StartsWith("out_", StringComparison.Ordinal)).ToList();
        Assert.Equal(records.Count, events.Count + outcomes.Count);
        Assert.Equal(800, events.Select(r => r.Id).Distinct().Count());
        Assert.Equal(800, events.Count);
        Assert.All(events, r => Assert.Equal([byte.Parse(r.Id.Split('_')[1])], r.Bytes));
        Assert.Equal(800, outcomes.Select(r => r.Id).Distinct().Count());
        Assert.Equal(800, outcomes.Count);
        Assert.All(outcomes, r => Assert.Equal(200 + int.Parse(r.Id.Split('_')[1]), BinaryPrimitives.ReadInt32LittleEndian(r.Bytes)));
        Assert.Equal(800, Interlocked.Read(ref durableOutcomes));
    }

    [Fact]
    public void An_id_longer_than_the_frame_allows_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => GroupCommitLog.Frame(new MemoryStream(), new string('x', GroupCommitLog.MaxIdLength + 1), []));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>The frames back: length of the rest, the id's length, the id, the bytes.</summary>
    private static List<(string Id, byte[] Bytes)> Read(string path)
    {
        var all = File.ReadAllBytes(path);
        var records = new List<(string, byte[])>();
        for (var at = 0; at < all.Length;)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(all.AsSpan(at));
            var frame = all.AsSpan(at + 4, length);
            var idLength = frame[0];
            records.Add((Encoding.ASCII.GetString(frame.Slice(1, idLength)), frame[(1 + idLength)..].ToArray()));
            at += 4 + length;
        }

        return records;
    }
}
