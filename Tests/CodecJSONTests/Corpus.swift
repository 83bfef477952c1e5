import Foundation

// Types and values the encoder and decoder tests share, and the helpers that run them
// through our coder and through Foundation's.

/// A nested struct with an optional.
struct Address: Codable, Equatable {
    var street: String
    var city: String
    var zip: String?
}

/// An enum with a `String` raw value.
enum Color: String, Codable, Equatable {
    case red, green, blue
}

/// An enum with an `Int` raw value.
enum Priority: Int, Codable, Equatable {
    case low = 1, high = 10
}

/// An enum with associated values, synthesized `Codable`.
enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Double, height: Double)
    case point
    case labeled(String, Int)
}

/// A base class that encodes its own fields.
class Animal: Codable, Equatable {
    var name: String
    var legs: Int

    init(name: String, legs: Int) {
        self.name = name
        self.legs = legs
    }

    static func == (lhs: Animal, rhs: Animal) -> Bool {
        type(of: lhs) == type(of: rhs) && lhs.isEqual(to: rhs)
    }

    func isEqual(to other: Animal) -> Bool {
        name == other.name && legs == other.legs
    }
}

/// A subclass that puts its superclass under `super`, with `superEncoder()`.
final class Dog: Animal {
    var breed: String

    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name, legs: 4)
    }

    private enum CodingKeys: String, CodingKey { case breed }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }

    override func isEqual(to other: Animal) -> Bool {
        guard let other = other as? Dog else { return false }
        return breed == other.breed && super.isEqual(to: other)
    }
}

/// Every integer width at its extremes.
struct Integers: Codable, Equatable {
    var int = Int.min, intMax = Int.max
    var int8 = Int8.min, int8Max = Int8.max
    var int16 = Int16.min, int16Max = Int16.max
    var int32 = Int32.min, int32Max = Int32.max
    var int64 = Int64.min, int64Max = Int64.max
    var int128 = Int128.min, int128Max = Int128.max
    var uint = UInt.min, uintMax = UInt.max
    var uint8 = UInt8.min, uint8Max = UInt8.max
    var uint16 = UInt16.min, uint16Max = UInt16.max
    var uint32 = UInt32.min, uint32Max = UInt32.max
    var uint64 = UInt64.min, uint64Max = UInt64.max
    var uint128 = UInt128.min, uint128Max = UInt128.max
    var zero = 0, minusOne = -1
}

/// Floating-point values that are hard to print and read back.
struct Floats: Codable, Equatable {
    var doubles: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.2, 0.30000000000000004, 1.5, 3.0, 100, 1e-7, 1e21, 1e22, 1e23,
        123456789.123456789, 9007199254740992, Double.pi, Double.leastNonzeroMagnitude,
        Double.leastNormalMagnitude, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
        2.2250738585072014e-308, 1.7976931348623157e308, Double.leastNormalMagnitude.nextDown, 4.35, 0.000001, 1e300, 1e-300,
    ]
    var floats: [Float] = [
        0, -0.0, 1, 0.1, 3.0, 1e-7, 16777216, Float.pi, Float.leastNonzeroMagnitude,
        Float.leastNormalMagnitude, Float.greatestFiniteMagnitude, 3.4028235e38, Float.leastNormalMagnitude.nextDown,
    ]
    var double = 2.5
    var float: Float = -7.25
}

/// Strings that need escaping, and some that must not be escaped.
struct Strings: Codable, Equatable {
    var controls = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
    var quotesAndBackslashes = #"say "hi" \ to C:\path\ and \"escaped\""#
    var slashes = "a/b</script>"
    var nonASCII = "héllo wörld · 日本語 · Ελληνικά · \u{7F} \u{2028}\u{2029}"
    var emoji = "😀👩‍👩‍👧🇳🇿"
    var empty = ""
    var long = String(repeating: "0123456789abcdef\"\n", count: 100)
}

/// A bit of everything, nested.
struct Everything: Codable, Equatable {
    var name = "everything"
    var flag = true
    var off = false
    var optionalPresent: String? = "here"
    var optionalNil: Int?
    var numbers = [1, 2, 3]
    var nested = [["a", "b"], [], ["c"]]
    var empty: [Int] = []
    var byName = ["one": 1, "two": 2, "": 0, "with \"quote\"": 3]
    var byNumber = [1: "one", -2: "minus two", 300: "three hundred"]
    var address = Address(street: "1 Infinite Loop", city: "Cupertino", zip: nil)
    var addresses = [Address(street: "a", city: "b", zip: "c"), Address(street: "", city: "", zip: nil)]
    var color = Color.green
    var priority = Priority.high
    var shapes: [Shape] = [.circle(radius: 1.5), .rectangle(width: 2, height: 3), .point, .labeled("x", 7)]
    var date = Date(timeIntervalSinceReferenceDate: 123_456_789.25)
    var epoch = Date(timeIntervalSince1970: 0)
    var data = Data([0, 1, 2, 253, 254, 255])
    var emptyData = Data()
    var url = URL(string: "https://example.com/a/b?c=d&e=%20f#g")!
    var decimal = Decimal(string: "12345.6789")!
    var negativeDecimal = Decimal(string: "-0.001")!
    var dog = Dog(name: "Rex", breed: "Collie")
    var animals = [Animal(name: "Cat", legs: 4)]
    var integers = Integers()
    var floats = Floats()
    var strings = Strings()
    var deeply = [[[["deep": [1]]]]]
    var optionals: [Int?] = [1, nil, 3]
}

/// Any JSON value, to decode documents without a schema.
enum JSONValue: Codable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let bool = try? container.decode(Bool.self) {
            self = .bool(bool)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([JSONValue].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let bool): try container.encode(bool)
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }
}
