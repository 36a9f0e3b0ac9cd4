import keras
import tensorflow as tf


def discriminator_loss(logits_real, logits_fake):
    on_real = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_real), logits=logits_real)
    on_fake = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(logits_fake), logits=logits_fake)
    loss = tf.reduce_mean(on_real) + tf.reduce_mean(on_fake)
    return loss


def generator_loss(logits_fake):
    loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logits_fake),
                                                                   logits=logits_fake))
    return loss


def build_generator(latent_dim, hidden_units, data_dim):
    noise = keras.Input(shape=(latent_dim,), name="noise")
    h = keras.layers.Dense(hidden_units, activation="relu")(noise)
    h = keras.layers.Dense(hidden_units, activation="relu")(h)
    point = keras.layers.Dense(data_dim, name="point")(h)
    return keras.Model(noise, point, name="generator")


def build_discriminator(data_dim, hidden_units):
    point = keras.Input(shape=(data_dim,), name="point")
    h = keras.layers.Dense(hidden_units, activation="relu")(point)
    h = keras.layers.Dense(hidden_units, activation="relu")(h)
    logit = keras.layers.Dense(1, name="logit")(h)
    return keras.Model(point, logit, name="discriminator")


def train_step(generator, discriminator, g_optimizer, d_optimizer, real, noise):
    with tf.GradientTape() as d_tape:
        generated = generator(noise, training=True)
        d_loss = discriminator_loss(discriminator(real, training=True), discriminator(generated, training=True))
    d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_weights),
                                    discriminator.trainable_weights))
    with tf.GradientTape() as g_tape:
        g_loss = generator_loss(discriminator(generator(noise, training=True), training=True))
    g_optimizer.apply_gradients(zip(g_tape.gradient(g_loss, generator.trainable_weights), generator.trainable_weights))
    return d_loss, g_loss
