import MicroCore
import Testing

@Suite struct UnknownFlagErrorTests {
    @Test func editDistance() {
        #expect(UnknownFlagError.editDistance("registy", "registry") == 1)
        #expect(UnknownFlagError.editDistance("kitten", "sitting") == 3)
        #expect(UnknownFlagError.editDistance("", "abc") == 3)
        #expect(UnknownFlagError.editDistance("same", "same") == 0)
    }

    @Test func nearestIsTheClosestWithinAThirdOfTheName() {
        let known = ["registry", "registry_address", "transport", "selector", "selector_ttl", "server_name"]
        #expect(UnknownFlagError.nearest(to: "registy", among: known) == "registry")
        #expect(UnknownFlagError.nearest(to: "registry-adress", among: known) == "registry_address")
        #expect(UnknownFlagError.nearest(to: "SELECTOR", among: known) == "selector")
        #expect(UnknownFlagError.nearest(to: "selector_tl", among: known) == "selector_ttl")
        #expect(UnknownFlagError.nearest(to: "frobnicate", among: known) == nil)
        #expect(UnknownFlagError.nearest(to: "x", among: known) == nil)
    }

    @Test func descriptionSuggestsOrPointsToHelp() {
        #expect(UnknownFlagError(flag: "registy", known: ["registry"]).description == "unknown flag --registy; did you mean --registry?")
        #expect(UnknownFlagError(flag: "zzz", known: ["registry"]).description == "unknown flag --zzz; see --help for the flags")
    }
}
