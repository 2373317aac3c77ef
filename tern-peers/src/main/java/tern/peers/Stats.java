package tern.peers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** Medians across runs. */
final class Stats {
    private Stats() {
    }

    static <T> double median(List<T> runs, ToDoubleFunction<T> metric) {
        List<Double> v = new ArrayList<>();
        for (T r : runs) {
            v.add(metric.applyAsDouble(r));
        }
        if (v.isEmpty()) {
            return Double.NaN;
        }
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
