using System.Text.Json;
using System.Text.Unicode;

namespace Hookline.Server.Api;

/// <summary>
/// A JSON request body read strictly: an object, no duplicate keys, no unknown fields, each field of the
/// expected type. Errors name the field, so a merchant's client can point at the mistake.
/// </summary>
internal sealed class RequestObject
{
    private readonly JsonElement _root;
    private readonly string _prefix;

    private RequestObject(JsonElement root, string prefix)
    {
        _root = root;
        _prefix = prefix;
    }

    public static RequestObject Parse(ReadOnlyMemory<byte> body, params string[] allowedFields)
        => From(ParseElement(body), "", allowedFields);

    /// <summary>Parses strictly (depth 32, duplicate keys refused) and detaches the result from the parser's buffers.</summary>
    public static JsonElement ParseElement(ReadOnlyMemory<byte> body)
    {
        using var document = ParseDocument(body);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Parses strictly (depth 32, duplicate keys refused), leaving the document on <paramref name="body"/>: for a caller that
    /// is done with every element before it disposes the document. Ingestion is: it copies what it keeps into the
    /// envelope it renders, and a clone of each request was the largest allocation left on its path.
    /// </summary>
    public static JsonDocument ParseDocument(ReadOnlyMemory<byte> body)
    {
        if (body.IsEmpty)
        {
            throw ApiException.BadRequest("The request body must be a JSON object.");
        }

        // The reader does not check the bytes inside strings, and the payload is stored and sent as received:
        // invalid UTF-8 would reach every receiver as a body that is not JSON.
        if (!Utf8.IsValid(body.Span))
        {
            throw ApiException.BadRequest("The request body is not valid UTF-8.");
        }

        try
        {
            return JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"The request body is not valid JSON: {Describe(e)}");
        }
    }

    public static RequestObject From(JsonElement element, string prefix, params string[] allowedFields)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw prefix.Length == 0
                ? ApiException.BadRequest("The request body must be a JSON object.")
                : ApiException.BadRequest($"{prefix.TrimEnd('.')} must be an object.", prefix.TrimEnd('.'));
        }

        foreach (var property in element.EnumerateObject())
        {
            if (Array.IndexOf(allowedFields, property.Name) < 0)
            {
                throw ApiException.BadRequest($"{prefix}{property.Name} is not a valid field", prefix + property.Name);
            }
        }

        return new RequestObject(element, prefix);
    }

    public bool Has(string field) => _root.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Undefined;

    public bool IsNull(string field) => _root.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Null;

    public JsonElement? Element(string field) => _root.TryGetProperty(field, out var value) ? value : null;

    public string? String(string field, bool required = false, int maxLength = 1024)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw Missing(field) : null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw ApiException.BadRequest($"The {_prefix}{field} must be a string.", _prefix + field);
        }

        var text = value.GetString()!;
        if (required && text.Length == 0)
        {
            throw Missing(field);
        }

        return text.Length > maxLength
            ? throw ApiException.BadRequest($"The {_prefix}{field} may not be greater than {maxLength} characters.", _prefix + field)
            : text;
    }

    public bool? Bool(string field)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadRequest($"The {_prefix}{field} must be true or false.", _prefix + field),
        };
    }

    public IReadOnlyList<string>? StringArray(string field, bool required = false, int maxItems = 500)
    {
        if (!_root.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return required ? throw Missing(field) : null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadRequest($"The {_prefix}{field} must be an array of strings.", _prefix + field);
        }

        var items = new List<string>();
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw ApiException.BadRequest($"The {_prefix}{field} must be an array of strings.", _prefix + field);
            }

            items.Add(item.GetString()!);
        }

        if (items.Count > maxItems)
        {
            throw ApiException.BadRequest($"The {_prefix}{field} may not have more than {maxItems} items.", _prefix + field);
        }

        return items;
    }

    private ApiException Missing(string field) => ApiException.BadRequest($"The {_prefix}{field} field is required.", _prefix + field);

    private static string Describe(JsonException e) => e.Message.Split(" Path:", 2)[0].Split(" LineNumber:", 2)[0].TrimEnd('.') + ".";
}
