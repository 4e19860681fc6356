using System.Diagnostics.Tracing;

namespace Hookline.Cli.Bench;

/// <summary>
/// Bytes the process allocated, summed from the runtime's allocation ticks: an event each time a heap has handed
/// out about 100 KB more, carrying that amount. <see cref="GC.GetTotalAllocatedBytes"/> cannot serve here: it sums
/// only the heaps active at the moment, so under the server GC's dynamic heap count (DATAS) it drops when heaps are
/// retired, and over a light phase that followed a heavy one (PostgreSQL's S2 after SQLite's S5) it read zero
/// (dotnet/runtime#131069). Each tick costs the listener a few microseconds, so only the scenario that reports
/// allocation (S2) listens.
/// </summary>
internal sealed class AllocationTicks : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private const int AllocationTickEvent = 10;
    private long _bytes;

    /// <summary>Bytes allocated since this listener started, to within one tick (~100 KB) per heap.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEvent || eventData.Payload is not { } payload || eventData.PayloadNames is not { } names)
        {
            return;
        }

        // AllocationAmount64 since version 2 of the event; AllocationAmount (32-bit) before it.
        var index = names.IndexOf("AllocationAmount64");
        if (index < 0)
        {
            index = names.IndexOf("AllocationAmount");
        }

        if (index >= 0 && payload[index] is { } amount)
        {
            Interlocked.Add(ref _bytes, Convert.ToInt64(amount, System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
