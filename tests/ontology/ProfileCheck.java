// What the OWL API (the library behind Protege, ROBOT, HermiT and Pellet) makes of an RDF file: the OWL 2 profile
// violations it reports and the triples it could not turn into axioms (and so drops without a word).
// Compiled by tests/ontology/test_owl_tools.py against the OWL API 3 bundled in owlready2's HermiT.jar.
//
// Usage: java ProfileCheck FILE  -> one line per finding, tab-separated:
//   VIOLATION <profile name> <violation>      UNPARSED <triple>      AXIOMS <count>
import java.io.File;

import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.RDFOntologyFormat;
import org.semanticweb.owlapi.io.RDFTriple;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyFormat;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.profiles.OWL2DLProfile;
import org.semanticweb.owlapi.profiles.OWL2RLProfile;
import org.semanticweb.owlapi.profiles.OWLProfile;
import org.semanticweb.owlapi.profiles.OWLProfileViolation;

public class ProfileCheck {
    public static void main(String[] args) throws Exception {
        OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
        OWLOntology ontology = manager.loadOntologyFromOntologyDocument(new File(args[0]));
        System.out.println("AXIOMS\t" + ontology.getAxiomCount());
        OWLOntologyFormat format = manager.getOntologyFormat(ontology);
        if (format instanceof RDFOntologyFormat) {
            for (RDFTriple triple : ((RDFOntologyFormat) format).getOntologyLoaderMetaData().getUnparsedTriples()) {
                System.out.println("UNPARSED\t" + oneLine(triple.toString()));
            }
        }
        for (OWLProfile profile : new OWLProfile[] {new OWL2DLProfile(), new OWL2RLProfile()}) {
            for (OWLProfileViolation violation : profile.checkOntology(ontology).getViolations()) {
                System.out.println("VIOLATION\t" + profile.getName() + "\t" + oneLine(violation.toString()));
            }
        }
    }

    private static String oneLine(String text) {
        return text.replace('\n', ' ').replace('\t', ' ');
    }
}
